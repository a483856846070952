import { DIGITS, readDigits, readInteger, readNumber, type Dialect } from './numbers.ts';

/**
 * Turns a written Vietnamese bulletin into the words a announcer would say, so the synthesiser never guesses:
 * numbers (1.250, 2,5), dates (12/9/2026), times (17h30), units (200mm, 100 km/h, 35°C, 4‰), phone numbers
 * (digit by digit), ranges (20-25) and the abbreviations of local government (UBND, PCTT, TP. …).
 * Passes run from the most specific pattern to the most general: phone numbers before dates before ranges before
 * plain numbers, so "0912.345.678" is never read as a thousand-grouped number nor "12/9" as a fraction.
 */
export function normaliseVietnamese(text: string, dialect: Dialect = {}): string {
  let s = text.normalize('NFC').replace(/[\u00a0\t\r\n]+/g, ' ');
  s = expandAbbreviations(s);
  s = s.replace(/(^|[\s(:])[-−](?=\d)/g, '$1âm '); // −5°C; a bullet dash has a space after it
  s = phones(s);
  s = dates(s, dialect);
  s = s.replace(/(\d)\s?\/\s?(\d)/g, '$1 trên $2'); // not a date: 24/24h, a ratio → "hai mươi tư trên hai mươi tư giờ"
  s = s.replace(/(?<=\p{L})\s?\/\s?(\d{1,3})\s?h(?![\p{L}\p{N}])/gu, ' trong $1 giờ'); // rainfall: 50-100mm/24h
  s = times(s, dialect);
  s = ordinals(s, dialect);
  s = quantities(s, dialect);
  s = s.replace(new RegExp(`${B}(${NUM})\\s?[-–]\\s?(${NUM})${A}`, 'gu'), (_, a, b) => ` ${readNumber(a, dialect)} đến ${readNumber(b, dialect)} `);
  s = s.replace(new RegExp(NUM, 'g'), (n) => ` ${readNumber(n, dialect)} `);
  s = s.replace(/\s*&\s*/g, ' và ').replace(/[~≈]\s*/g, 'khoảng ').replace(/≥\s*/g, 'từ ').replace(/≤\s*/g, 'đến ');
  return s.replace(/\s+/g, ' ').replace(/\s+([,.;:!?)])/g, '$1').replace(/\(\s+/g, '(').trim();
}

/** Boundaries that understand Vietnamese letters (\b is ASCII-only: it sees a boundary inside "mẫu"). */
const B = '(?<![\\p{L}\\p{N}])';
const A = '(?![\\p{L}\\p{N}])';
/** A written number: digits with "." thousand groups and/or a "," decimal part (separators only between digits). */
const NUM = '\\d+(?:[.,]\\d+)*';

// Local-government and bulletin abbreviations, case-sensitive. Bare "TT" is left alone on purpose: it is thị trấn,
// trung tâm, Thủ tướng or thông tư (39/2020/TT-BTTTT) depending on context; only "TT." before a name is thị trấn.
const ABBREVIATIONS: Record<string, string> = {
  UBMTTQVN: 'Ủy ban Mặt trận Tổ quốc Việt Nam',
  UBMTTQ: 'Ủy ban Mặt trận Tổ quốc',
  MTTQVN: 'Mặt trận Tổ quốc Việt Nam',
  MTTQ: 'Mặt trận Tổ quốc',
  UBND: 'Ủy ban nhân dân',
  HĐND: 'Hội đồng nhân dân',
  'NN&PTNT': 'Nông nghiệp và Phát triển nông thôn',
  'PCTT&TKCN': 'phòng chống thiên tai và tìm kiếm cứu nạn',
  PCTT: 'phòng chống thiên tai',
  TKCN: 'tìm kiếm cứu nạn',
  PCCC: 'phòng cháy chữa cháy',
  BCH: 'Ban chỉ huy',
  QS: 'quân sự',
  CAND: 'Công an nhân dân',
  CA: 'công an',
  CSGT: 'cảnh sát giao thông',
  ATGT: 'an toàn giao thông',
  'KT-XH': 'kinh tế xã hội',
  THCS: 'trung học cơ sở',
  THPT: 'trung học phổ thông',
  BHYT: 'bảo hiểm y tế',
  BHXH: 'bảo hiểm xã hội',
  HTX: 'hợp tác xã',
  TTYT: 'Trung tâm Y tế',
  TYT: 'Trạm Y tế',
  CCCD: 'căn cước công dân',
  SĐT: 'số điện thoại',
  QL: 'quốc lộ',
  ĐBSCL: 'đồng bằng sông Cửu Long',
  HCM: 'Hồ Chí Minh',
  VN: 'Việt Nam',
  'COVID-19': 'cô-vít mười chín',
  'Covid-19': 'cô-vít mười chín',
};
/** Place prefixes written with a dot before a name or number: "TP. Huế", "P.5", "Q. 3", "TT. Phong Điền". */
const PLACE_PREFIXES: Record<string, string> = { 'TP.': 'thành phố', 'Tp.': 'thành phố', 'TX.': 'thị xã', 'TT.': 'thị trấn', 'P.': 'phường', 'Q.': 'quận', 'X.': 'xã' };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); // no "-"/"&": invalid escapes under /u
const alternation = (keys: string[]) => keys.sort((a, b) => b.length - a.length).map(escape).join('|');
const ABBREV_RE = new RegExp(`${B}(${alternation(Object.keys(ABBREVIATIONS))})(?![\\p{L}])`, 'gu');
const PLACE_RE = new RegExp(`${B}(${alternation(Object.keys(PLACE_PREFIXES))})\\s*(?=[\\p{Lu}\\d])`, 'gu');

function expandAbbreviations(s: string): string {
  return s
    .replace(/(?<![\p{L}])v\.v(?=\.)/gu, 'vân vân') // the dot after it ends the list (and often the sentence)
    .replace(/(?<![\p{L}])TP(?=\s|\.?[\p{Lu}])\.?/gu, 'thành phố ') // "TP Huế", "TP.HCM" without a space
    .replace(PLACE_RE, (_, p: string) => `${PLACE_PREFIXES[p]} `)
    .replace(ABBREV_RE, (_, a: string) => ` ${ABBREVIATIONS[a]} `);
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

const MONTH = (m: number, d: Dialect) => (m === 4 ? 'tư' : readInteger(String(m), d));
const validDay = (d: string) => +d >= 1 && +d <= 31;
const validMonth = (m: string) => +m >= 1 && +m <= 12;
/** Whether the text just before `at` already says "ngày" (Ngày 12/9 → not "ngày ngày"). */
const saidBefore = (s: string, at: number, words: RegExp) => words.test(s.slice(Math.max(0, at - 12), at));
const DAY_WORD = /(?:ngày|mùng|mồng|hôm)\s*$/i;

function dates(s: string, d: Dialect): string {
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
  ha: 'héc-ta', '°C': 'độ C', 'ºC': 'độ C', '° C': 'độ C', oC: 'độ C', '°': 'độ',
  hPa: 'héc-tô-pát-xcan', mb: 'mi-li-ba', kWh: 'ki-lô-oát giờ', kW: 'ki-lô-oát', MW: 'mê-ga-oát', W: 'oát', kV: 'ki-lô-vôn', V: 'vôn',
  '%': 'phần trăm', '‰': 'phần nghìn',
  VNĐ: 'đồng', VND: 'đồng', đ: 'đồng', USD: 'đô la Mỹ',
};
const UNIT_RE = new RegExp(`${B}(${NUM})(?:\\s?[-–]\\s?(${NUM}))?\\s?(${alternation(Object.keys(UNITS))})${A}`, 'gu');

const PER_UNIT_RE = new RegExp(`(?<=\\p{L})\\s?/\\s?(${alternation(Object.keys(UNITS).filter((u) => /^\p{L}/u.test(u)))})${A}`, 'gu');
const PER_WORD_RE = /(?<=\p{L})\s?\/\s?(hộ|người|khẩu|ngày|tuần|tháng|năm|lần|suất|con|sào|công|tấn)(?![\p{L}\p{N}])/gu;

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
