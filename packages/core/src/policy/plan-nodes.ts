/**
 * The shape of a compiled plan: the tree that the interpreter (plan.ts) walks and the
 * serializer compiler (compiled.ts) turns into code. Types only.
 */
import type { OperatorFunction } from '../operators/builtin.js';

/** Bounds on the work `protect` does for one value; exceeding one refuses the whole value. */
export interface ProtectLimits {
  /** Deepest nesting followed, counting from the resource root. Default 64. */
  readonly maxDepth: number;
  /** Most values (objects, arrays, scalars) visited. Default 1,000,000. */
  readonly maxNodes: number;
  /** Most string characters sent (values, and keys that come from the value). Default 8,000,000. */
  readonly maxChars: number;
}

/** @internal A field the plan handles as a whole. */
export interface Leaf {
  readonly kind: 'leaf';
  readonly index: number;
  readonly path: string;
  readonly opName: string;
  readonly op: OperatorFunction;
  readonly isSend: boolean;
  readonly discloses: boolean;
  readonly recorded: boolean;
  /** An encrypted field whose operator needs its value: decrypted before the walk. */
  readonly decrypts: boolean;
}

/** @internal An object or array the plan descends into. */
export interface Branch {
  readonly kind: 'branch';
  readonly path: string;
  readonly keys: Readonly<Record<string, PlanNode>> | null;
  /** The declared keys and their nodes, in declaration order, for walking the plan instead of the value. */
  readonly names: readonly string[];
  readonly children: readonly PlanNode[];
  readonly anyKey: PlanNode | null;
  readonly element: PlanNode | null;
  /** Sensitive categories that can tag this node's values (array elements). */
  readonly sensitive: SensitiveNode | null;
}

/** @internal How one plan treats the sensitive categories of an element. */
export interface SensitiveNode {
  readonly codes: readonly string[] | null;
  readonly tags: readonly string[] | null;
  /** code or tag (normalised, see sensitive.ts) → indexes of the categories it puts an element in. */
  readonly byCode: ReadonlyMap<string, readonly number[]>;
  readonly byTag: ReadonlyMap<string, readonly number[]>;
  /** Per category: shown, withheld, or shown after a recent second factor. */
  readonly access: readonly ('open' | 'mask' | 'step-up')[];
  /** Per category: the relationship a revealed caller also needs. */
  readonly relationship: readonly (string | null)[];
  /** The same node with the category's masked fields withheld. */
  readonly masked: Branch;
}

/** @internal */
export type PlanNode = Leaf | Branch;

/** @internal What a walk counts and records; shared by the interpreter and compiled plans. */
export interface WalkState {
  nodes: number;
  chars: number;
  readonly hits: Uint8Array;
  /** Ciphertext → plaintext of the encrypted fields this walk may read. */
  readonly plain: ReadonlyMap<string, unknown> | null;
}
