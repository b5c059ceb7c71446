import type { IncomingHttpHeaders } from 'node:http';
import type { Cohort } from '../../../src/split/decide-visitor';

/** One response a visitor got: the cohort that served it, and when it was sent and ended. */
export interface CohortObservation {
  cohort: Cohort;
  startedAt: number;
  finishedAt: number;
}

/**
 * A soak visitor: a browser that keeps the visitor cookie it was given and remembers, in order,
 * which cohort served each of its requests. It sends one request at a time, like a person, so
 * the order of its observations is the order of the Worker's decisions.
 *
 * @example
 * const visitor = new SoakVisitor();
 * const response = await client.send({ path: '/', headers: visitor.requestHeaders() });
 * visitor.keepCookie(response.headers);
 */
export class SoakVisitor {
  /** The visitor id from the cookie, once the Worker issued one. */
  id: string | undefined;
  readonly seen: CohortObservation[] = [];
  /** Set-Cookies that replaced an id the visitor already held (must never happen). */
  reissued = 0;

  constructor(readonly cookieName = 'rollout_id') {}

  requestHeaders(): Record<string, string> {
    return this.id ? { cookie: `${this.cookieName}=${this.id}` } : {};
  }

  /** Keeps the id of a visitor cookie in the response, if any. */
  keepCookie(headers: IncomingHttpHeaders): void {
    const prefix = `${this.cookieName}=`;
    const cookie = (headers['set-cookie'] ?? []).find((value) => value.startsWith(prefix));
    if (!cookie) return;
    if (this.id !== undefined) this.reissued++;
    this.id = cookie.slice(prefix.length).split(';')[0];
  }
}
