import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from './config';

describe('loadConfig', () => {
  it('reads apiBaseUrl from config.json', async () => {
    const fetchImpl = vi.fn(async () => new Response(JSON.stringify({ apiBaseUrl: 'https://api.example' })));
    await expect(loadConfig(fetchImpl)).resolves.toEqual({ apiBaseUrl: 'https://api.example' });
    expect(fetchImpl).toHaveBeenCalledWith('./config.json');
  });

  it('refuses a config without apiBaseUrl', async () => {
    const fetchImpl = vi.fn(async () => new Response(JSON.stringify({ api: 'x' })));
    await expect(loadConfig(fetchImpl)).rejects.toThrow('config.json must be');
  });

  it('refuses a missing config.json', async () => {
    const fetchImpl = vi.fn(async () => new Response('', { status: 404 }));
    await expect(loadConfig(fetchImpl)).rejects.toThrow('HTTP 404');
  });
});
