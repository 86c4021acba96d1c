// Git source failures as data: a code the reconciler records (FetchFailed and friends), a message
// an operator can act on, and the original error kept as `cause`.
import { FILE_LIMIT_HINT, fileLimitCode } from '../file-limit.ts';

export const GIT_ERROR_CODES = {
  GIT_AUTH_FAILED: 'the remote refused the credentials (check PSWM_GIT_TOKEN / PSWM_GIT_USERNAME)',
  GIT_REPOSITORY_NOT_FOUND: 'the remote repository does not exist or the credentials cannot see it',
  GIT_UNREACHABLE: 'the remote could not be reached',
  GIT_FETCH_FAILED: 'fetching from the remote failed',
  GIT_BRANCH_NOT_FOUND: 'the tracked branch does not exist',
  GIT_NOT_A_REPOSITORY: 'the path is not a git repository',
  GIT_UNSUPPORTED_REMOTE: 'supported are http(s) URLs (smart HTTP), file:// URLs and local paths; ssh and git:// are not',
  GIT_TLS_FAILED: 'the remote\'s certificate is not trusted (set PSWM_GIT_CA_FILE to the CA that issued it)',
  GIT_CA_FILE_INVALID: 'the git CA file (PSWM_GIT_CA_FILE) cannot be used',
  GIT_OUT_OF_FILES: `the server ran out of file descriptors; ${FILE_LIMIT_HINT}`,
  GIT_READ_FAILED: 'reading the local copy of the repository failed',
} as const;

export type GitErrorCode = keyof typeof GIT_ERROR_CODES;

export class GitSourceError extends Error {
  code: GitErrorCode;
  constructor(code: GitErrorCode, detail: string, options?: ErrorOptions) {
    super(`${GIT_ERROR_CODES[code]}: ${detail}`, options);
    this.name = 'GitSourceError';
    this.code = code;
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED']);
const UNTRUSTED_CERTIFICATE_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);

/** Classifies an error thrown by isomorphic-git's clone/fetch against `description` (a URL
 * without credentials). */
export function remoteError(error: unknown, description: string): GitSourceError {
  if (error instanceof GitSourceError) return error;
  const outOfFiles = fileLimitCode(error);
  if (outOfFiles) return new GitSourceError('GIT_OUT_OF_FILES', `${outOfFiles} while fetching ${description}`, { cause: error });
  const failure = error as { code?: string; data?: { statusCode?: number; statusMessage?: string }; cause?: { code?: string }; message?: string };
  const status = failure.code === 'HttpError' ? failure.data?.statusCode : undefined;
  if (status === 401 || status === 403 || failure.code === 'UserCanceledError') {
    return new GitSourceError('GIT_AUTH_FAILED', `${description} answered ${status ?? 401}`, { cause: error });
  }
  // The remote answered but has no such ref.
  if (failure.code === 'NotFoundError') return new GitSourceError('GIT_BRANCH_NOT_FOUND', description, { cause: error });
  if (status === 404) return new GitSourceError('GIT_REPOSITORY_NOT_FOUND', `${description} answered 404`, { cause: error });
  const codes = [failure.code, failure.cause?.code];
  const certificateCode = codes.find((code) => code && UNTRUSTED_CERTIFICATE_CODES.has(code));
  if (certificateCode) return new GitSourceError('GIT_TLS_FAILED', `${description} (${certificateCode})`, { cause: error });
  const networkCode = codes.find((code) => code && NETWORK_CODES.has(code));
  if (networkCode) return new GitSourceError('GIT_UNREACHABLE', `${description} (${networkCode})`, { cause: error });
  return new GitSourceError('GIT_FETCH_FAILED', `${description}: ${failure.message ?? String(error)}`, { cause: error });
}

/** Classifies an error from resolving a branch in a repository on disk: only a ref that is really
 * missing is "does not exist"; a read that failed (EMFILE on packed-refs, EIO, EACCES) says so. */
export function refReadError(error: unknown, description: string): GitSourceError {
  if (error instanceof GitSourceError) return error;
  const outOfFiles = fileLimitCode(error);
  if (outOfFiles) return new GitSourceError('GIT_OUT_OF_FILES', `${outOfFiles} while reading ${description}`, { cause: error });
  if ((error as { code?: string } | undefined)?.code === 'NotFoundError') return new GitSourceError('GIT_BRANCH_NOT_FOUND', description, { cause: error });
  const failure = error as { code?: string; message?: string } | undefined;
  return new GitSourceError('GIT_READ_FAILED', `${description}: ${failure?.message ?? String(error)}`, { cause: error });
}
