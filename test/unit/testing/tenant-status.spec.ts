import { describe, expect, it } from 'vitest';
import { deriveStatus, StatusIndicator } from '../../../src/testing/tenant-status.js';

type Rows = Record<string, { status: string; message: string }>;
const derive = (deleted: boolean, controllers: string[], rows: Rows) =>
  deriveStatus({ deleted, controllers, rowOf: (controller) => rows[controller] });

describe('deriveStatus', () => {
  it('is idle for an active resource, deleted for a soft-deleted one, when no controller is registered', () => {
    const rows: Rows = { stray: { status: 'error', message: 'ignored' } };
    expect(derive(false, [], rows)).toEqual({ indicator: StatusIndicator.Idle, message: '' });
    expect(derive(true, [], rows)).toEqual({ indicator: StatusIndicator.Deleted, message: '' });
  });

  it('lists controllers without a row as "waiting for", in registration order', () => {
    expect(derive(false, ['b', 'a'], {})).toEqual({
      indicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'waiting for: b, a',
    });
  });

  it('joins pending and in-progress controllers with "; "', () => {
    const rows: Rows = { a: { status: 'in_progress', message: '' }, c: { status: 'in_progress', message: '' } };
    expect(derive(false, ['a', 'b', 'c'], rows)).toEqual({
      indicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'waiting for: b; in progress: a, c',
    });
  });

  it('says only "in progress" when every controller has a row', () => {
    const rows: Rows = { a: { status: 'completed', message: '' }, b: { status: 'in_progress', message: '' } };
    expect(derive(false, ['a', 'b'], rows)).toEqual({
      indicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'in progress: b',
    });
  });

  it('is idle when every registered controller completed', () => {
    const rows: Rows = { a: { status: 'completed', message: 'done' }, b: { status: 'completed', message: '' } };
    expect(derive(false, ['a', 'b'], rows)).toEqual({ indicator: 'STATUS_INDICATION_IDLE', message: '' });
  });

  it('reports an error row with its message, ahead of pending controllers', () => {
    const rows: Rows = { b: { status: 'error', message: 'quota exceeded' } };
    expect(derive(false, ['a', 'b'], rows)).toEqual({
      indicator: 'STATUS_INDICATION_ERROR',
      message: 'quota exceeded',
    });
  });

  it('ignores rows of unregistered controllers', () => {
    const rows: Rows = { a: { status: 'completed', message: '' }, other: { status: 'error', message: 'x' } };
    expect(derive(false, ['a'], rows)).toEqual({ indicator: 'STATUS_INDICATION_IDLE', message: '' });
    expect(derive(true, ['a'], { other: { status: 'error', message: 'x' } })).toEqual({
      indicator: 'STATUS_INDICATION_DELETED',
      message: '',
    });
  });

  it('waits, while deleting, for every registered controller that still has a row (any status)', () => {
    const rows: Rows = { a: { status: 'completed', message: '' }, c: { status: 'in_progress', message: '' } };
    expect(derive(true, ['a', 'b', 'c'], rows)).toEqual({
      indicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'deleting, waiting for: a, c',
    });
  });

  it('reports an error row while deleting', () => {
    const rows: Rows = { a: { status: 'completed', message: '' }, b: { status: 'error', message: 'cannot drop db' } };
    expect(derive(true, ['a', 'b'], rows)).toEqual({
      indicator: 'STATUS_INDICATION_ERROR',
      message: 'cannot drop db',
    });
  });

  it('is deleted once no registered controller has a row', () => {
    expect(derive(true, ['a', 'b'], {})).toEqual({ indicator: 'STATUS_INDICATION_DELETED', message: '' });
  });
});
