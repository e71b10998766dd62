// Direct API calls the scenarios make "as an agent".
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

export type ApiClient = ReturnType<typeof apiClient>;

export function apiClient(base: string) {
  /** Answers the parsed JSON body (any: the scenarios read the fields they check); throws ApiCallError unless 2xx. */
  async function call(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiCallError(response.status, data);
    return data;
  }
  const dims = (scores: number[], why: string) =>
    Object.fromEntries(
      ['scope_clarity', 'decision_points', 'context_window_demand', 'verification_complexity', 'domain_specificity'].map((d, i) => [
        d,
        { score: scores[i], reasoning: `${why}: ${d.replace(/_/g, ' ')} scored ${scores[i]}` },
      ]),
    );
  return {
    call,
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
    /** Takes a sizing lock and sizes the task with the given five scores (SPEC §4), releasing the lock. */
    async size(taskId: string, scores: number[], agent = 'e2e-sizer') {
      await call('POST', `/tasks/${taskId}/lock`, { caller_label: agent, lock_purpose: 'sizing' });
      return call('POST', `/tasks/${taskId}/size`, {
        caller_label: agent,
        work_log_content: `Sized by ${agent}`,
        ...dims(scores, 'e2e'),
        confidence: 4,
        risk_factors: ['Third-party API quirks'],
        release_lock: true,
      });
    },
    async breakdown(taskId: string, subtasks: object[], agent = 'e2e-seeder') {
      await call('POST', `/tasks/${taskId}/lock`, { caller_label: agent, lock_purpose: 'breakdown' });
      return call('POST', `/tasks/${taskId}/breakdown`, {
        caller_label: agent,
        work_log_content: `Broken into ${subtasks.length}`,
        subtasks,
        release_lock: true,
      });
    },
    async treeNames(taskId: string): Promise<string[]> {
      const tree = await call('GET', `/tasks/${taskId}/tree`);
      return tree.children.map((c: { name: string }) => c.name);
    },
  };
}
