// Where things are, derived from the page's own URL: the console is served at
// `.../console` on every deployment (`/console` locally, `/dev/console` behind a stage).

const CONSOLE_SUFFIX = /\/console(?:\/.*)?$/;

/** The admin API's base URL: the page URL without its `/console...` tail. */
export function apiBase(href: string): string {
  const url = new URL(href);
  return url.origin + url.pathname.replace(CONSOLE_SUFFIX, "");
}

/** The page itself without query or fragment: the hosted UI's redirect URI. */
export function pageUrl(href: string): string {
  const url = new URL(href);
  return url.origin + url.pathname;
}

/** One path segment, percent-encoded (a scope such as `orders/read` holds a slash). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
