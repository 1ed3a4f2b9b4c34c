import { RESTART_BACKOFF, RestartBackoff } from '../../cli/local/restart-backoff';

describe('local runtime restart back-off', () => {
  it('waits 1 s, then doubles per consecutive crash up to 30 s', () => {
    const b = new RestartBackoff();
    const delays = Array.from({ length: 8 }, () => b.next(100));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('starts over after a run that lasted twice the cap', () => {
    const b = new RestartBackoff();
    b.next(10);
    b.next(10);
    expect(b.next(10)).toBe(4_000);
    expect(b.next(RESTART_BACKOFF.resetAfterMs)).toBe(1_000);
    expect(b.next(10)).toBe(2_000);
  });

  it('follows a custom policy and never overflows', () => {
    const b = new RestartBackoff({ baseMs: 10, maxMs: 50, resetAfterMs: 1_000 });
    for (let i = 0; i < 100; i++) b.next(0);
    expect(b.next(0)).toBe(50);
  });
});
