// Errors are values (ARCHITECTURE.md): an ioctl returns `{ ok: true }` or `{ ok: false, errno, rule }`, where
// `rule` is exactly "<section>#<step>" of spec/kvm-arm64.md and `message` carries the human text.

export const ERRNO = {
  EPERM: 1, ENOENT: 2, EINTR: 4, ENXIO: 6, ENOEXEC: 8, EAGAIN: 11, ENOMEM: 12, EFAULT: 14,
  EBUSY: 16, EEXIST: 17, EINVAL: 22, ENOSYS: 38,
} as const;

export type ErrnoName = keyof typeof ERRNO;
export const ERRNO_NAMES = Object.keys(ERRNO) as ErrnoName[];

export function isErrnoName(s: string): s is ErrnoName {
  return Object.prototype.hasOwnProperty.call(ERRNO, s);
}

export interface IoctlOk {
  readonly ok: true;
  /** the ioctl's non-negative return value where it has one (KVM_CHECK_EXTENSION, KVM_GET_ONE_REG, …) */
  readonly value?: bigint;
}
export interface IoctlErr {
  readonly ok: false;
  readonly errno: ErrnoName;
  /** spec rule that fired, e.g. "A.2#11" */
  readonly rule: string;
  readonly message: string;
}
export type IoctlResult = IoctlOk | IoctlErr;

export const OK: IoctlOk = { ok: true };
export function okValue(value: bigint): IoctlOk { return { ok: true, value }; }
export function fail(errno: ErrnoName, rule: string, message: string): IoctlErr {
  return { ok: false, errno, rule, message };
}
