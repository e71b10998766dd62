export interface AppConfig {
  apiBaseUrl: string;
}

/**
 * Reads config.json next to index.html, so one build serves every stage. index.html preloads
 * it; the request here must match that preload (same URL, default mode) to reuse it.
 */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  const response = await fetchImpl('./config.json');
  if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status})`);
  const data: unknown = await response.json();
  if (typeof data !== 'object' || data === null || typeof (data as { apiBaseUrl?: unknown }).apiBaseUrl !== 'string') {
    throw new Error('config.json must be {"apiBaseUrl": "<url>"}');
  }
  return { apiBaseUrl: (data as { apiBaseUrl: string }).apiBaseUrl };
}
