/** Small I/O pieces the file and buffered audit sinks share. */
import { fdatasync, write as fsWrite } from 'node:fs';
import { AuditUnavailableError } from '../errors.js';

/** Writes all of `buf` at the file's position, then (with `sync`) waits for the data to reach the disk. */
export function writeFully(fd: number, buf: Buffer, sync: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let offset = 0;
    const step = (): void => {
      fsWrite(fd, buf, offset, buf.length - offset, null, (err, n) => {
        if (err) return reject(err);
        offset += n;
        if (offset < buf.length) return step();
        if (!sync) return resolve();
        fdatasync(fd, (e) => (e ? reject(e) : resolve()));
      });
    };
    step();
  });
}

/** `done` (resolved or rejected), or AuditUnavailableError once `timeoutMs` passed first (no timeout: `done` itself). */
export function withinTimeout(done: Promise<void>, timeoutMs: number | undefined): Promise<void> {
  if (timeoutMs === undefined) return done;
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new AuditUnavailableError()), timeoutMs);
    t.unref?.();
    done.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err);
      },
    );
  });
}
