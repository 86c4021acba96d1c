// The console's only data path: GETs of the server's read API. Inside pswm-server the server hands
// the pages an in-process call of its own routes; `npm run dev` fetches PSWM_SERVER_URL instead.
// Either way the browser's session cookie is what authenticates the read.

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Context {
  locals: App.Locals;
  request: Request;
}

export async function apiGet<T>(context: Context, path: string): Promise<T> {
  return (await succeeded(context, path)).body as T;
}

/** A GET whose answer is not JSON (a transcript): its text. */
export async function apiText(context: Context, path: string): Promise<string> {
  return (await succeeded(context, path)).text;
}

async function succeeded(context: Context, path: string): Promise<{ body: unknown; text: string }> {
  const { status, body, text } = await call(context, path);
  if (status >= 400) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message ?? text;
    throw new ApiError(status, message);
  }
  return { body, text };
}

async function call(context: Context, path: string): Promise<{ status: number; body: unknown; text: string }> {
  if (context.locals.api) return context.locals.api(path);
  const server = process.env.PSWM_SERVER_URL;
  if (!server) throw new Error('PSWM_SERVER_URL is not set: run the console through pswm-server, or `npm run dev -w console -- --server URL`.');
  const cookie = context.request.headers.get('cookie');
  const response = await fetch(new URL(path, server), { headers: cookie ? { cookie } : {} });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, body: json && text ? JSON.parse(text) : undefined, text };
}

/** A query string from the set values of `params` (undefined and '' are left out). */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
