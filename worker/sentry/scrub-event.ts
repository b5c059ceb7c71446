/** The parts of a Sentry event that can carry visitor secrets. */
export interface ScrubbableEvent {
  request?: {
    url?: string;
    query_string?: unknown;
    cookies?: unknown;
    headers?: Record<string, string>;
    data?: unknown;
    env?: unknown;
  };
  message?: string;
  exception?: { values?: { value?: string }[] };
  user?: { ip_address?: string | null } & Record<string, unknown>;
}

/** Request headers worth seeing in an error report; everything else (auth, cookies) is dropped. */
export const REPORTED_HEADERS: readonly string[] = [
  'user-agent',
  'cf-ray',
  'content-type',
  'accept',
  'content-length',
];

const URL_QUERY = /(\bhttps?:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/g;

/**
 * Removes what must never leave the Worker in an error report: cookies, every header not in
 * {@link REPORTED_HEADERS} (so `authorization` and `cookie` go), query strings (of the request
 * and of any URL inside a message), request bodies and the visitor's IP.
 *
 * @example
 * new Toucan({ ..., beforeSend: (event) => scrubEvent(event) });
 */
export function scrubEvent<E extends ScrubbableEvent>(event: E): E {
  const request = event.request;
  if (request) {
    delete request.cookies;
    delete request.query_string;
    delete request.data;
    delete request.env;
    if (request.url) request.url = request.url.replace(/[?#].*$/s, '');
    if (request.headers)
      request.headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => REPORTED_HEADERS.includes(name.toLowerCase())),
      );
  }
  if (event.message) event.message = withoutQueries(event.message);
  for (const exception of event.exception?.values ?? [])
    if (exception.value) exception.value = withoutQueries(exception.value);
  if (event.user) delete event.user.ip_address;
  return event;
}

function withoutQueries(text: string): string {
  return text.replace(URL_QUERY, '$1?[scrubbed]');
}
