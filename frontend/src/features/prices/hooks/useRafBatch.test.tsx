import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useRafBatch } from './useRafBatch';

let frames: FrameRequestCallback[] = [];
beforeEach(() => {
  frames = [];
  vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb));
  vi.stubGlobal('cancelAnimationFrame', vi.fn());
});
afterEach(() => vi.unstubAllGlobals());

describe('useRafBatch', () => {
  it('hands over everything pushed between two frames in one call', () => {
    const flushed: number[][] = [];
    const { result } = renderHook(() => useRafBatch<number>((items) => flushed.push(items)));
    act(() => {
      for (let i = 0; i < 1000; i++) result.current(i);
      result.current([1000, 1001]);
    });
    expect(frames).toHaveLength(1); // one frame requested for 1002 items
    act(() => frames.shift()!(0));
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toHaveLength(1002);
    act(() => result.current(7));
    act(() => frames.shift()!(0));
    expect(flushed[1]).toEqual([7]);
  });

  it('cancels the pending frame on unmount', () => {
    const { result, unmount } = renderHook(() => useRafBatch<number>(() => undefined));
    act(() => result.current(1));
    unmount();
    expect(cancelAnimationFrame).toHaveBeenCalled();
  });
});
