import { useCallback, useEffect, useRef } from 'react';

/**
 * Collect items as they arrive and hand them over once per animation frame. A thousand socket
 * messages a second then cost ~60 React updates, not a thousand.
 */
export function useRafBatch<T>(onFlush: (items: T[]) => void): (items: T | T[]) => void {
  const buffer = useRef<T[]>([]);
  const frame = useRef<number | null>(null);
  const flushRef = useRef(onFlush);
  flushRef.current = onFlush;

  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    },
    [],
  );

  return useCallback((items: T | T[]) => {
    if (Array.isArray(items)) buffer.current.push(...items);
    else buffer.current.push(items);
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      const batch = buffer.current;
      buffer.current = [];
      if (batch.length) flushRef.current(batch);
    });
  }, []);
}
