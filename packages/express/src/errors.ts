import type { Request, Response } from 'express';

export { errorBody } from '@phiguard/core/adapter';
export type { ErrorBody, ErrorLogger } from '@phiguard/core/adapter';

export function requestIdOf(req: Request, res: Response): string | undefined {
  return (res.getHeader('X-Request-Id') as string | undefined) ?? (req.headers['x-request-id'] as string | undefined);
}
