import { readInteger, type Dialect } from './numbers.ts';
import { wordsPattern } from './patterns.ts';

export const MONTH = (m: number, d: Dialect) => (m === 4 ? 'tư' : readInteger(String(m), d));
const validDay = (d: string) => +d >= 1 && +d <= 31;
export const validMonth = (m: string) => +m >= 1 && +m <= 12;
/** Whether the text just before `at` already says "ngày" (Ngày 12/9 → not "ngày ngày"). */
const saidBefore = (s: string, at: number, words: RegExp) => words.test(s.slice(Math.max(0, at - 12), at));
const DAY_WORD = /(?:ngày|mùng|mồng|hôm)\s*$/i;

/** Solar dates: 12/9/2026, 12-15/9/2026, 9/2026, 20/10 — each read as "ngày … tháng … năm …". */
export function dates(s: string, d: Dialect): string {
  const day = (n: string) => readInteger(n, d);
  const year = (y: string) => readInteger(y, d);
  return s
    // 12-15/9/2026: a span of days in one month
    .replace(/(?<![\d/.])(\d{1,2})\s?[-–]\s?(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?(?![\d/])/g, (m, a, b, mo, y, at, all) => {
      if (!validDay(a) || !validDay(b) || !validMonth(mo)) return m;
      return ` ${saidBefore(all, at, DAY_WORD) ? '' : 'ngày '}${day(a)} đến ngày ${day(b)} tháng ${MONTH(+mo, d)}${y ? ` năm ${year(y)}` : ''} `;
    })
    // 12/9/2026, 12-9-2026, 12.9.2026
    .replace(/(?<![\d/.])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\d/])/g, (m, a, _sep, mo, y, at, all) => {
      if (!validDay(a) || !validMonth(mo)) return m;
      return ` ${saidBefore(all, at, DAY_WORD) ? '' : 'ngày '}${day(a)} tháng ${MONTH(+mo, d)} năm ${year(y)} `;
    })
    // 9/2026
    .replace(/(?<![\d/.])(\d{1,2})\/(\d{4})(?![\d/])/g, (m, mo, y, at, all) => {
      if (!validMonth(mo)) return m;
      return ` ${saidBefore(all, at, /tháng\s*$/i) ? '' : 'tháng '}${MONTH(+mo, d)} năm ${year(y)} `;
    })
    // 20/10
    .replace(/(?<![\d/.])(\d{1,2})\/(\d{1,2})(?![\d/])/g, (m, a, mo, at, all) => {
      if (!validDay(a) || !validMonth(mo)) return m;
      return ` ${saidBefore(all, at, DAY_WORD) ? '' : 'ngày '}${day(a)} tháng ${MONTH(+mo, d)} `;
    });
}

/**
 * Lunar months have their own names: 1 is Giêng, 11 is Một, 12 is Chạp (GLOSSARY); lunar days 1–10 are "mùng …"
 * and 15 is rằm.
 */
const lunarMonth = (m: number, d: Dialect) => (m === 1 ? 'Giêng' : m === 11 ? 'Một' : m === 12 ? 'Chạp' : MONTH(m, d));
const lunarDay = (n: number, d: Dialect) => (n === 15 ? 'rằm' : n <= 10 ? `mùng ${readInteger(String(n), d)}` : readInteger(String(n), d));

/** What marks a date as lunar: "âm lịch"/"ÂL" after it (in brackets or not), or a year named by can chi after it. */
const MARK = '\\s*\\(\\s*(?:âm lịch|Âm lịch|ÂL|âl)\\s*\\)|\\s+(?:âm lịch|Âm lịch|ÂL|âl)(?![\\p{L}])';
const CAN = 'Giáp|Ất|Bính|Đinh|Mậu|Kỷ|Canh|Tân|Nhâm|Quý';
const CHI = 'Tý|Sửu|Dần|Mão|Mẹo|Thìn|Tỵ|Ngọ|Mùi|Thân|Dậu|Tuất|Hợi';
const CAN_CHI = `(?=\\s+(?:năm\\s+)?(?:${CAN})\\s+(?:${CHI})(?![\\p{L}]))`;
const LUNAR_DATE_RE = new RegExp(`(?<![\\d/.])(\\d{1,2})(?:/|\\s+tháng\\s+)(\\d{1,2})(?:/(\\d{4}))?(?![\\d/])(${MARK}|${CAN_CHI})`, 'gu');
const LUNAR_MONTH_RE = new RegExp(`([tT]háng)\\s+(\\d{1,2})(?:/(\\d{4}))?(?![\\d/])(${MARK}|\\s+nhuận(?![\\p{L}])|${CAN_CHI})`, 'gu');
const RAM_RE = /([rR]ằm\s+tháng)\s+(\d{1,2})(?![\d/])/gu;

/** 15/1 âm lịch → rằm tháng Giêng; mùng 10/3 âm lịch → mùng mười tháng ba âm lịch; tháng 12 âm lịch → tháng Chạp âm lịch. */
export function lunarDates(s: string, d: Dialect): string {
  const mark = (m: string) => (/nhuận/.test(m) ? ' nhuận' : /\p{L}/u.test(m) ? ' âm lịch' : '');
  const year = (y: string | undefined) => (y ? ` năm ${readInteger(y, d)}` : '');
  return s
    .replace(LUNAR_DATE_RE, (all, day: string, mo: string, y: string | undefined, m: string, at: number, str: string) => {
      if (+day < 1 || +day > 30 || !validMonth(mo)) return all;
      const before = str.slice(Math.max(0, at - 8), at);
      // "mùng 10/3": the day word is written already; "ngày 15/1" is said "ngày rằm".
      const spokenDay = /(?:mùng|mồng)\s*$/i.test(before) ? readInteger(day, d) : lunarDay(+day, d);
      // Rằm says the calendar already; other days keep "âm lịch", which the listener needs.
      return ` ${spokenDay} tháng ${lunarMonth(+mo, d)}${year(y)}${+day === 15 ? '' : mark(m)} `;
    })
    .replace(LUNAR_MONTH_RE, (all, w: string, mo: string, y: string | undefined, m: string) =>
      validMonth(mo) ? `${w} ${lunarMonth(+mo, d)}${year(y)}${mark(m)}` : all)
    .replace(RAM_RE, (all, w: string, mo: string) => (validMonth(mo) ? `${w} ${lunarMonth(+mo, d)}` : all));
}

/**
 * Streets, squares and schools named after a date: đường 30/4 is "đường Ba mươi tháng Tư", not "đường ngày ba mươi
 * tháng tư"; Quảng trường 2/9, đường 3/2, Trường 19/5.
 */
const PLACES = ['đường', 'phố', 'đại lộ', 'quảng trường', 'công viên', 'cầu', 'chợ', 'trường', 'bệnh viện', 'sân vận động', 'nhà thi đấu', 'khu phố', 'hẻm', 'kiệt', 'ngõ'];
const PLACE_DATE_RE = new RegExp(`(?<![\\p{L}])(${wordsPattern(PLACES)})\\s+(\\d{1,2})/(\\d{1,2})(?![\\d/])`, 'gu');

export function placeNames(s: string, d: Dialect): string {
  return s.replace(PLACE_DATE_RE, (all, place: string, day: string, mo: string) =>
    validDay(day) && validMonth(mo) ? `${place} ${readInteger(day, d)} tháng ${MONTH(+mo, d)}` : all);
}
