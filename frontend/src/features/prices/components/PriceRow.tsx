import { memo, useEffect, useRef } from 'react';
import { fmtAge, fmtPct, fmtPrice, fmtPriceLike } from '../../../lib/format';
import { spreadOf, type PriceRowData } from '../hooks/priceStore';

interface Props {
  row: PriceRowData;
  /** Current time rounded to the second, so ages move without re-rendering on every tick. */
  nowSecond: number;
  selected: boolean;
  onSelect: (symbol: string) => void;
}

/** One symbol. Memoised: re-renders only when its own record (or the second) changes. */
export const PriceRow = memo(function PriceRow({ row, nowSecond, selected, onSelect }: Props) {
  const ref = useRef<HTMLTableRowElement>(null);
  const { update, previous, first } = row;

  useEffect(() => {
    const el = ref.current;
    if (!el || previous === null || previous === update.price) return;
    const cls = update.price > previous ? 'flash-up' : 'flash-down';
    el.classList.remove('flash-up', 'flash-down');
    void el.offsetWidth; // restart the animation
    el.classList.add(cls);
  }, [update, previous]);

  const change = first ? ((update.price - first) / first) * 100 : null;
  const spread = spreadOf(update);
  return (
    <tr
      ref={ref}
      className="clickable"
      data-symbol={update.symbol}
      aria-current={selected || undefined}
      tabIndex={0}
      onClick={() => onSelect(update.symbol)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onSelect(update.symbol);
        }
      }}
    >
      <td className="mono">{update.symbol}</td>
      <td className="num" data-col="price">{fmtPrice(update.price)}</td>
      <td className="num">{fmtPrice(update.bid)}</td>
      <td className="num">{fmtPrice(update.ask)}</td>
      <td className="num" data-col="spread">{fmtPriceLike(spread, update.price)}</td>
      <td className={`num ${change === null || change === 0 ? '' : change > 0 ? 'up' : 'down'}`}>{fmtPct(change, 3)}</td>
      <td>{update.source}</td>
      <td className="num muted">{fmtAge(nowSecond * 1000 - update.ts)}</td>
    </tr>
  );
});
