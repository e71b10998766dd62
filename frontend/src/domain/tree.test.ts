import { describe, expect, it } from 'vitest';
import { EMPTY_FILTER, flattenTree, indexTrees, moveChild, moveItem } from './tree';
import { makeTask, makeTree } from '../test/fakeApi';

const leafA = makeTree(makeTask({ id: 'a', name: 'Alpha login', parent_task_id: 'root', readiness: 'ready', points: 3 }));
const leafB = makeTree(makeTask({ id: 'b', name: 'Beta schema', parent_task_id: 'root' }));
const root = makeTree(makeTask({ id: 'root', name: 'Root', readiness: 'blocked_by_children' }), [leafA, leafB]);
const other = makeTree(makeTask({ id: 'other', name: 'Other' }));

describe('flattenTree', () => {
  it('lists tasks in tree order with levels and sibling positions', () => {
    const rows = flattenTree([root, other], new Set(), EMPTY_FILTER);
    expect(rows.map((r) => [r.task.id, r.level, r.siblingIndex, r.siblingCount])).toEqual([
      ['root', 0, 0, 2],
      ['a', 1, 0, 2],
      ['b', 1, 1, 2],
      ['other', 0, 1, 2],
    ]);
    expect(rows.every((r) => r.rootId === (r.task.id === 'other' ? 'other' : 'root'))).toBe(true);
  });

  it('hides the descendants of a collapsed task', () => {
    const rows = flattenTree([root, other], new Set(['root']), EMPTY_FILTER);
    expect(rows.map((r) => r.task.id)).toEqual(['root', 'other']);
    expect(rows[0]?.expanded).toBe(false);
  });

  it('keeps ancestors of matches (dimmed) and opens collapsed paths while filtering', () => {
    const rows = flattenTree([root, other], new Set(['root']), { ...EMPTY_FILTER, text: 'LOGIN' });
    expect(rows.map((r) => [r.task.id, r.matches])).toEqual([
      ['root', false],
      ['a', true],
    ]);
  });

  it('filters by readiness and status together', () => {
    expect(flattenTree([root, other], new Set(), { text: '', status: 'todo', readiness: 'ready' }).map((r) => r.task.id)).toEqual(['root', 'a']);
    expect(flattenTree([root, other], new Set(), { text: '', status: 'done', readiness: '' })).toEqual([]);
  });
});

describe('tree edits', () => {
  it('moves an item to its final index', () => {
    expect(moveItem(['a', 'b', 'c', 'd'], 0, 2)).toEqual(['b', 'c', 'a', 'd']);
    expect(moveItem(['a', 'b', 'c', 'd'], 3, 0)).toEqual(['d', 'a', 'b', 'c']);
  });

  it('reorders the children of one parent without touching other branches', () => {
    const moved = moveChild(root, 'root', 'b', 0);
    expect(moved.children.map((c) => c.id)).toEqual(['b', 'a']);
    expect(moveChild(other, 'root', 'b', 0)).toBe(other);
  });

  it('indexes every task with its top-level root', () => {
    const index = indexTrees([root, other]);
    expect(index.get('b')?.rootId).toBe('root');
    expect(index.get('other')?.rootId).toBe('other');
    expect(index.size).toBe(4);
  });
});
