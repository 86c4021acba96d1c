declare namespace App {
  interface Locals {
    /** Set by pswm-server: an in-process GET of its own /api/v1 routes with the browser's cookie. */
    api?: (path: string) => Promise<{ status: number; body: unknown; text: string }>;
    principal?: { name: string; role: string };
  }
}
