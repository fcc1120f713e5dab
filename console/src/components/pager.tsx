import { useEffect, useState } from 'preact/hooks';

export interface CursorPages {
  /** The cursor of the page shown; undefined on the first page. */
  cursor: string | undefined;
  /** 1-based. */
  page: number;
  older(next: string): void;
  newer(): void;
}

/**
 * Keyset paging: the cursors of the pages before the one shown, so "Newer" goes back without the API paging
 * backwards. Back to the first page whenever `resetOn` changes (a filter).
 */
export function useCursorPages(resetOn: unknown[]): CursorPages {
  const [cursors, setCursors] = useState<string[]>([]);
  useEffect(() => setCursors([]), resetOn);
  return {
    cursor: cursors[cursors.length - 1],
    page: cursors.length + 1,
    older: (next) => setCursors([...cursors, next]),
    newer: () => setCursors(cursors.slice(0, -1)),
  };
}

/** ← Newer · page n · Older →; `next` is the API's cursor of the following page (none on the last). */
export function Pager({ pages, next }: { pages: CursorPages; next: string | null | undefined }) {
  return (
    <div class="pager">
      <button disabled={pages.page === 1} onClick={pages.newer}>
        ← Newer
      </button>
      <span class="muted">page {pages.page}</span>
      <button disabled={!next} onClick={() => next && pages.older(next)}>
        Older →
      </button>
    </div>
  );
}
