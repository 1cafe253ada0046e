/** Every path the session-api serves, in express syntax; the OpenAPI document is checked against these. */
export const ROUTES = {
  sessions: '/api/chat/sessions',
  session: '/api/chat/sessions/:session_id',
  members: '/api/chat/sessions/:session_id/members',
  member: '/api/chat/sessions/:session_id/members/:user_id',
  messages: '/api/chat/sessions/:session_id/messages',
  analysisStatus: '/api/chat/sessions/:session_id/analysis-status',
  search: '/api/chat/sessions/:session_id/search',
  history: '/api/chat/history/:session_id',
  people: '/api/chat/people',
  deadLetters: '/api/chat/dead-letters',
  deadLetter: '/api/chat/dead-letters/:dead_letter_id',
  deadLetterReplay: '/api/chat/dead-letters/:dead_letter_id/replay',
  chatSwitch: '/api/chat/admin/switch',
  status: '/status',
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
  openapi: '/openapi.json',
} as const;

/** `/a/:id` → `/a/{id}`, the OpenAPI spelling of a path. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}
