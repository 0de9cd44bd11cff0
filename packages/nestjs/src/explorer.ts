import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { PATH_METADATA, SSE_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { OptionsError } from '@phiguard/core';
import type { MinimumNecessaryRules } from './decorators.js';
import { PhiGuardRuntime } from './runtime.js';
import { METADATA, PHIGUARD_RUNTIME } from './tokens.js';

/** Own and inherited methods of a controller, as Nest's router finds them. */
const scanner = new MetadataScanner();

/**
 * Checks every controller at bootstrap, so a mistake fails the start-up rather than a request:
 * `@PhiResource` names a resource of the policy, `@MinimumNecessary` rule sets compile, and no
 * PHI handler is an `@Sse()` stream, which nothing could project. Handlers that write the response
 * themselves (`@Res()`, `req.res.json`) are fine: the response gate projects what they write.
 */
@Injectable()
export class PhiGuardExplorer implements OnModuleInit {
  constructor(
    @Inject(PHIGUARD_RUNTIME) private readonly runtime: PhiGuardRuntime,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const cls = wrapper.metatype as (abstract new (...args: never[]) => unknown) | undefined;
      if (typeof cls !== 'function') continue;
      for (const name of scanner.getAllMethodNames(cls.prototype as object)) {
        const handler = (cls.prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue; // not a route
        this.check(cls, name, handler);
      }
    }
  }

  private check(cls: abstract new (...args: never[]) => unknown, name: string, handler: (...args: unknown[]) => unknown): void {
    const targets = [handler, cls];
    if (this.reflector.getAllAndOverride<boolean>(METADATA.skip, targets)) return;
    const resource = this.reflector.getAllAndOverride<string>(METADATA.resource, targets);
    if (resource === undefined) return;
    const where = `${cls.name}.${name}()`;
    const compiled = this.runtime.resourceOf(resource, where);
    const rules = this.reflector.getAllAndOverride<MinimumNecessaryRules>(METADATA.minimumNecessary, targets);
    if (rules !== undefined) this.runtime.narrowingFor(handler, resource, rules, where);
    if (compiled.rawBody === 'allow') return;
    if (Reflect.getMetadata(SSE_METADATA, handler) === true) {
      throw new OptionsError(`${where} is an @Sse() stream on PHI resource "${resource}": phiguard cannot project a stream; declare rawBody: 'allow' on the resource to send it unprojected (audited as a raw body)`);
    }
  }
}
