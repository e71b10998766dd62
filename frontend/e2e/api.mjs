// Direct API calls the scenarios make "as an agent".
export class ApiCallError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

export function apiClient(base) {
  async function call(method, path, body) {
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
  const dims = (scores, why) =>
    Object.fromEntries(
      ['scope_clarity', 'decision_points', 'context_window_demand', 'verification_complexity', 'domain_specificity'].map((d, i) => [
        d,
        { score: scores[i], reasoning: `${why}: ${d.replace(/_/g, ' ')} scored ${scores[i]}` },
      ]),
    );
  return {
    call,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    /** Takes a sizing lock and sizes the task with the given five scores (SPEC §4), releasing the lock. */
    async size(taskId, scores, agent = 'e2e-sizer') {
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
    async breakdown(taskId, subtasks, agent = 'e2e-seeder') {
      await call('POST', `/tasks/${taskId}/lock`, { caller_label: agent, lock_purpose: 'breakdown' });
      return call('POST', `/tasks/${taskId}/breakdown`, {
        caller_label: agent,
        work_log_content: `Broken into ${subtasks.length}`,
        subtasks,
        release_lock: true,
      });
    },
    async treeNames(taskId) {
      const tree = await call('GET', `/tasks/${taskId}/tree`);
      return tree.children.map((c) => c.name);
    },
  };
}
