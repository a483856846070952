
import { expandAbbreviations } from './abbreviations.ts';
import { dates, lunarDates, MONTH, placeNames, validMonth } from './dates.ts';
import { documentNumbers } from './documents.ts';
import { fractions } from './fractions.ts';
import { DIGITS, readDigits, readInteger, readNumber, type Dialect } from './numbers.ts';
import { A, alternation, B, NUM } from './patterns.ts';
import { applyReadings, type Reading } from './readings.ts';
import { romanNumerals } from './roman.ts';

/**
 * Turns a written Vietnamese bulletin into the words a announcer would say, so the synthesiser never guesses:
 * numbers (1.250, 2,5), dates (12/9/2026), lunar dates (15/1 âm lịch), times (17h30), units (200mm, 100 km/h, 35°C,
 * 4‰), money (5 triệu đ), fractions (1/3 diện tích), Roman numerals (quý IV), phone numbers (digit by digit), ranges
 * (20-25), document numbers (100/2019/NĐ-CP) and the abbreviations of local government (UBND, GD&ĐT, TP. …).
 * The commune's own readings (`readings`: a hamlet's name, a local word) come first, before any built-in rule.
 * Passes run from the most specific pattern to the most general: phone numbers before dates before ranges before
 * plain numbers, so "0912.345.678" is never read as a thousand-grouped number nor "12/9" as a fraction; lunar dates,
 * street names and fractions before solar dates, which would otherwise take every a/b.
 */
export function normaliseVietnamese(text: string, dialect: Dialect = {}, readings: readonly Reading[] = []): string {
  let s = applyReadings(text.normalize('NFC').replace(/[\u00a0\t\r\n]+/g, ' '), readings);
  s = documentNumbers(s, dialect);
  s = romanNumerals(s, dialect);
  s = expandAbbreviations(s);
  s = s.replace(/(^|[\s(:])[-−](?=\d)/g, '$1âm '); // −5°C; a bullet dash has a space after it
  s = phones(s);
  s = lunarDates(s, dialect);
  s = placeNames(s, dialect);
  s = fractions(s, dialect);
  s = dates(s, dialect);
  s = s.replace(/(\d)\s?\/\s?(\d)/g, '$1 trên $2'); // not a date: 24/24h, a ratio → "hai mươi tư trên hai mươi tư giờ"
  s = s.replace(/(?<=\p{L})\s?\/\s?(\d{1,3})\s?h(?![\p{L}\p{N}])/gu, ' trong $1 giờ'); // rainfall: 50-100mm/24h
  s = times(s, dialect);
  s = ordinals(s, dialect);
  s = money(s);
  s = quantities(s, dialect);
  // Three or more short numbers joined by dashes are a formula, not a range: phân NPK 16-16-8, 20-20-15.
  s = s.replace(/(?<![\d/\-–]|\d[.,])\d{1,3}(?:\s?[-–]\s?\d{1,3}){2,}(?![\d/\-–]|[.,]\d)/g, (m) => ` ${m.split(/\s?[-–]\s?/).map((n) => readNumber(n, dialect)).join(', ')} `);
  s = s.replace(new RegExp(`${B}(${NUM})\\s?[-–]\\s?(${NUM})${A}`, 'gu'), (_, a, b) => ` ${readNumber(a, dialect)} đến ${readNumber(b, dialect)} `);
  s = s.replace(new RegExp(NUM, 'g'), (n) => ` ${readNumber(n, dialect)} `);
  s = s.replace(/\s*&\s*/g, ' và ').replace(/[~≈]\s*/g, 'khoảng ').replace(/≥\s*/g, 'từ ').replace(/≤\s*/g, 'đến ');
  return s.replace(/\s+/g, ' ').replace(/\s+([,.;:!?)])/g, '$1').replace(/\(\s+/g, '(').trim();
}

// Vietnamese phone numbers as people write them: mobiles 0xxx xxx xxx / 0xx xxx xxxx / 0xxxxxxxxx, landlines
// 02xx xxx xxxx / 02xx xxxx xxx, +84 …, 1800/1900 hotlines, and 111–115 right after "gọi"/"đường dây nóng".
const SEP = '[ .\\-]?';
const PHONE = [
  `\\+84${SEP}\\d{2,3}${SEP}\\d{3}${SEP}\\d{3,4}`,
  `02\\d{2}${SEP}\\d{3,4}${SEP}\\d{3,4}`,
  `0\\d{3}${SEP}\\d{3}${SEP}\\d{3}`,
  `0\\d{2}${SEP}\\d{3}${SEP}\\d{4}`,
  `0\\d{9,10}`,
  `1[89]00${SEP}\\d{4}`,
].join('|');
const PHONE_RE = new RegExp(`${B}(?:${PHONE})${A}`, 'gu');
const EMERGENCY_RE = /((?:gọi|Gọi)(?: ngay)?|tổng đài|đường dây nóng|hotline)(:?\s+)(11[1-5])(?![\p{L}\p{N}])/gu;

function phones(s: string): string {
  const spell = (p: string) => (p.startsWith('+') ? 'cộng ' : '') + readDigits(p.replace(/\D/g, ''));
  return s.replace(PHONE_RE, (p) => {
    const digits = p.replace(/\D/g, '');
    const ok = p.startsWith('+') || p.startsWith('1') || digits.length === 10 || (digits.length === 11 && digits.startsWith('02'));
    return ok ? ` ${spell(p)} ` : p;
  }).replace(EMERGENCY_RE, (_, w, sep, n) => `${w}${sep}${readDigits(n)}`);
}

// 17h30, 17g30, 17:30, 7h30', 7h30p, 7h: hours 0–24, minutes 00–59.
const TIME = `(\\d{1,2})(?:[hHg:](\\d{2})(?:'|ph\\b|p\\b|phút)?|[hH](?![\\p{L}\\p{N}]))`;
function times(s: string, d: Dialect): string {
  const say = (h: string, m: string | undefined) => {
    if (+h > 24 || (m !== undefined && +m > 59)) return null;
    return `${readInteger(h, d)} giờ${m && +m > 0 ? ` ${readInteger(m, d)} phút` : ''}`;
  };
  return s
    .replace(new RegExp(`${B}${TIME}\\s?[-–]\\s?${TIME}`, 'gu'), (all, h1, m1, h2, m2) => {
      const a = say(h1, m1);
      const b = say(h2, m2);
      return a && b ? ` ${a} đến ${b} ` : all;
    })
    .replace(new RegExp(`${B}${TIME}`, 'gu'), (all, h, m) => {
      const t = say(h, m);
      // "17:30" only reads as a time when it is one; otherwise leave it for the number passes.
      return t ? ` ${t} ` : all;
    });
}

/** tháng 4 → tháng tư; thứ 4 → thứ tư, lần thứ 1 → thứ nhất. */
function ordinals(s: string, d: Dialect): string {
  return s
    .replace(/(tháng|Tháng)\s+(\d{1,2})(?!\d|[/.,]\d|\p{L})/gu, (m, w, n) => (validMonth(n) ? `${w} ${MONTH(+n, d)}` : m))
    .replace(/(thứ|Thứ)\s+(\d)(?![\d\p{L}]|\s?[-–]\s?\d)/gu, (_, w, n) => `${w} ${n === '1' ? 'nhất' : n === '4' ? 'tư' : DIGITS[+n]}`);
}

const UNITS: Record<string, string> = {
  'km/h': 'ki-lô-mét trên giờ', 'km/giờ': 'ki-lô-mét trên giờ', 'm/s': 'mét trên giây', 'mm/h': 'mi-li-mét trên giờ',
  'km²': 'ki-lô-mét vuông', km2: 'ki-lô-mét vuông', 'm²': 'mét vuông', m2: 'mét vuông', 'm³': 'mét khối', m3: 'mét khối',
  mm: 'mi-li-mét', cm: 'xen-ti-mét', km: 'ki-lô-mét', m: 'mét',
  'mg/l': 'mi-li-gam trên lít', 'g/l': 'gam trên lít', kg: 'ki-lô-gam', mg: 'mi-li-gam', g: 'gam', ml: 'mi-li-lít', l: 'lít',
  ha: 'héc-ta', '°N': 'độ Vĩ Bắc', '°E': 'độ Kinh Đông', '°C': 'độ C', 'ºC': 'độ C', '° C': 'độ C', oC: 'độ C', '°': 'độ',
  hPa: 'héc-tô-pát-xcan', mb: 'mi-li-ba', kWh: 'ki-lô-oát giờ', kW: 'ki-lô-oát', MW: 'mê-ga-oát', W: 'oát', kV: 'ki-lô-vôn', V: 'vôn',
  '%': 'phần trăm', '‰': 'phần nghìn',
  VNĐ: 'đồng', VND: 'đồng', đ: 'đồng', '₫': 'đồng', USD: 'đô la Mỹ',
};
const UNIT_RE = new RegExp(`${B}(${NUM})(?:\\s?[-–]\\s?(${NUM}))?\\s?(${alternation(Object.keys(UNITS))})${A}`, 'gu');

const PER_UNIT_RE = new RegExp(`(?<=\\p{L})\\s?/\\s?(${alternation(Object.keys(UNITS).filter((u) => /^\p{L}/u.test(u)))})${A}`, 'gu');
const PER_WORD_RE = /(?<=\p{L})\s?\/\s?(hộ|người|khẩu|ngày|tuần|tháng|năm|lần|suất|con|sào|công|tấn)(?![\p{L}\p{N}])/gu;

/**
 * Money after a number word: "5 triệu đ", "200 nghìn ₫", "1,2 tỷ VNĐ" (VNĐ is expanded with the abbreviations),
 * and "3 tr đồng" for triệu. The number itself is read by the number passes.
 */
function money(s: string): string {
  return s
    .replace(/(?<=\d\s?)tr\.?\s?(?=đ|₫|đồng(?![\p{L}]))/gu, ' triệu ')
    .replace(/(?<=(?:nghìn|ngàn|triệu|tỷ|tỉ|trăm)\s?)(?:đ|₫)(?![\p{L}\p{N}]|\/c)/gu, ' đồng');
}

/** A number (or a range of them) with a unit: 150-200mm → một trăm năm mươi đến hai trăm mi-li-mét. */
function quantities(s: string, d: Dialect): string {
  return s
    .replace(UNIT_RE, (_, a, b, unit) => {
      const amount = b ? `${readNumber(a, d)} đến ${readNumber(b, d)}` : readNumber(a, d);
      const word = unit === '‰' && d.south ? 'phần ngàn' : UNITS[unit];
      return ` ${amount} ${word} `;
    })
    // đồng/m2 → đồng trên mét vuông; đồng/hộ → đồng mỗi hộ
    .replace(PER_UNIT_RE, (_, unit) => ` trên ${UNITS[unit]} `)
    .replace(PER_WORD_RE, ' mỗi $1');
}
