/**
 * The period a query text names, for time-aware ranking: "on 7 July, 2023", "July 7th 2023",
 * "2023-07-07" (a day) and "in June 2023" (a month). A memory's `createdAt` is when the
 * remembered thing happened (the store request's `createdAt`, else when it was stored), so a
 * query about a day or month ranks the memories of that period first (query.ts).
 *
 * Only absolute dates with a year are read: a year alone names too long a period to help, and
 * a day or month without a year ("in June"), like a relative time ("last week"), needs a
 * reference date the query does not give.
 */

const MONTHS: Readonly<Record<string, number>> = {
  january: 0,
  jan: 0,
  february: 1,
  feb: 1,
  march: 2,
  mar: 2,
  april: 3,
  apr: 3,
  may: 4,
  june: 5,
  jun: 5,
  july: 6,
  jul: 6,
  august: 7,
  aug: 7,
  september: 8,
  sep: 8,
  sept: 8,
  october: 9,
  oct: 9,
  november: 10,
  nov: 10,
  december: 11,
  dec: 11,
};

const MONTH = `(${Object.keys(MONTHS).join('|')})\\.?`;
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';
const YEAR = '(\\d{4})';
/** Patterns and how their groups map to year, month (name) and day. */
const PATTERNS: readonly { pattern: RegExp; year: number; month: number; day?: number }[] = [
  // 7 July, 2023 · 7th of July 2023
  {
    pattern: new RegExp(`\\b${DAY}\\s+(?:of\\s+)?${MONTH}\\s*,?\\s*${YEAR}\\b`, 'giu'),
    day: 1,
    month: 2,
    year: 3,
  },
  // July 7, 2023 · December 1,2023
  {
    pattern: new RegExp(`\\b${MONTH}\\s+${DAY}(?:\\s*,\\s*|\\s+)${YEAR}\\b`, 'giu'),
    month: 1,
    day: 2,
    year: 3,
  },
  // June 2023 · June, 2023
  { pattern: new RegExp(`\\b${MONTH}\\s*,?\\s+${YEAR}\\b`, 'giu'), month: 1, year: 2 },
];
const ISO_DAY = /\b(\d{4})-(\d{2})-(\d{2})\b/gu;

/** Margin on each side of a named day or month: the query's time zone is unknown. */
const MARGIN_MS = 12 * 3_600_000;

/** A period in epoch ms, `[start, end)`. */
export interface Period {
  start: number;
  end: number;
}

/**
 * The period the text's absolute dates span (the smallest one covering all of them, each
 * widened by 12 hours either side), or undefined when it names none.
 */
export function namedPeriod(text: string): Period | undefined {
  const periods: Period[] = [];
  const taken: [number, number][] = [];
  const overlaps = (from: number, to: number) =>
    taken.some(([start, end]) => from < end && to > start);
  for (const { pattern, year, month, day } of PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const from = match.index;
      const to = from + match[0].length;
      if (overlaps(from, to)) continue;
      // Taken even when it names no day (31 June): its month is not read again on its own.
      taken.push([from, to]);
      const monthIndex = MONTHS[(match[month] as string).toLowerCase()] as number;
      const period = periodOf(
        Number(match[year]),
        monthIndex,
        day === undefined ? undefined : Number(match[day]),
      );
      if (period !== undefined) periods.push(period);
    }
  }
  for (const match of text.matchAll(ISO_DAY)) {
    const period = periodOf(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    if (period !== undefined) periods.push(period);
  }
  if (periods.length === 0) return undefined;
  return {
    start: Math.min(...periods.map((period) => period.start)) - MARGIN_MS,
    end: Math.max(...periods.map((period) => period.end)) + MARGIN_MS,
  };
}

function periodOf(year: number, month: number, day: number | undefined): Period | undefined {
  if (year < 1900 || year > 2999 || month < 0 || month > 11) return undefined;
  if (day === undefined)
    return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
  const start = Date.UTC(year, month, day);
  // 31 June is no day (Date.UTC would roll it over to 1 July).
  if (day < 1 || new Date(start).getUTCMonth() !== month) return undefined;
  return { start, end: start + 86_400_000 };
}
