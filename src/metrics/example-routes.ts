import type { BusinessRoute } from '../config/config-schema';

/**
 * The business routes of the invoicing app the launch plan describes: the example config and
 * the demo. Email delivery is not here: the Worker only sees the send request, the mail
 * provider's webhook reports delivery through `POST /__rollout/events`.
 *
 * @example
 * putConfig({ ...config, routes: EXAMPLE_ROUTES });
 */
export const EXAMPLE_ROUTES: readonly BusinessRoute[] = [
  { name: 'invoice_created', method: 'POST', pattern: '/api/invoices', success: '2xx' },
  { name: 'template_used', method: 'POST', pattern: '/api/templates/:id/use', success: '2xx' },
  { name: 'email_sent', method: 'POST', pattern: '/api/invoices/:id/send', success: '2xx' },
  { name: 'file_upload', method: 'POST', pattern: '/api/files', success: '2xx' },
];
