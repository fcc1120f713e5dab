import type { AnomalySwimlane } from '../api/types';
import { SEVERITY_COLOR, utc } from '../format';

const STEP = { '1h': 3_600_000, '1d': 86_400_000 } as const;

/** Equipment × time, each cell coloured by the highest severity in its bucket; a click selects the cell. */
export function Swimlane({
  lane,
  selected,
  onSelect,
}: {
  lane: AnomalySwimlane;
  selected?: { equipment: string; bucket: string };
  onSelect(cell: { equipment: string; bucket: string; to: string } | undefined): void;
}) {
  const step = STEP[lane.bucket];
  const first = Math.floor(Date.parse(lane.from) / step) * step;
  const buckets: number[] = [];
  for (let t = first; t < Date.parse(lane.to) && buckets.length < 800; t += step) buckets.push(t);
  const cells = new Map(lane.cells.map((c) => [`${c.equipment_id}|${Date.parse(c.bucket)}`, c]));
  const label = new Intl.DateTimeFormat(undefined, lane.bucket === '1h' ? { hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric' });
  // About six labels: readable from 390 px wide up.
  const every = Math.max(1, Math.ceil(buckets.length / 6));
  if (lane.equipment.length === 0) return <p class="muted">No equipment has reported yet.</p>;
  return (
    <div class="swimlane" role="grid" aria-label="Anomalies per equipment and time bucket" style={{ '--cols': buckets.length } as Record<string, number>}>
      {lane.equipment.map((eq) => (
        <div class="lane" role="row">
          <span class="lane-label" role="rowheader">
            {eq}
          </span>
          <div class="cells">
            {buckets.map((t) => {
              const c = cells.get(`${eq}|${t}`);
              const iso = new Date(t).toISOString();
              const isSelected = selected?.equipment === eq && Date.parse(selected.bucket) === t;
              const text = `${eq}, ${utc(iso)}: ${c ? `${c.anomalies} anomalies, highest ${c.severity}` : 'no anomalies'}`;
              return c ? (
                <button
                  role="gridcell"
                  class={`cell${isSelected ? ' selected' : ''}`}
                  style={{ background: SEVERITY_COLOR[c.severity] }}
                  title={text}
                  aria-label={text}
                  aria-pressed={isSelected}
                  data-equipment={eq}
                  data-bucket={iso}
                  onClick={() => onSelect(isSelected ? undefined : { equipment: eq, bucket: iso, to: new Date(t + step).toISOString() })}
                />
              ) : (
                <span role="gridcell" class="cell empty" title={text} />
              );
            })}
          </div>
        </div>
      ))}
      <div class="lane axis" aria-hidden="true">
        <span class="lane-label" />
        <div class="cells">
          {buckets.map((t, i) => (
            <span class="tick">{i % every === 0 ? label.format(new Date(t)) : ''}</span>
          ))}
        </div>
      </div>
    </div>
  );
}
