// Every page but the login page needs a live session: whoami through the API decides.
import { defineMiddleware } from 'astro:middleware';
import { apiGet, ApiError } from './lib/api.ts';

const PUBLIC = new Set(['/login']);

export const onRequest = defineMiddleware(async (context, next) => {
  const path = context.url.pathname;
  if (PUBLIC.has(path)) return next();
  try {
    context.locals.principal = await apiGet<{ name: string; role: string }>(context, '/api/v1/whoami');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      return context.redirect(`/login?next=${encodeURIComponent(path + context.url.search)}`, 303);
    }
    throw error;
  }
  const response = await next();
  // Pages show live data: never from a cache.
  if (!response.headers.has('cache-control')) response.headers.set('cache-control', 'no-store');
  return response;
});
