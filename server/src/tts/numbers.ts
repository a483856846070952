/** Vietnamese number words. Northern forms by default (nghìn, linh); `south` gives ngàn, lẻ as Southern listeners say. */
export interface Dialect {
  south?: boolean;
}

export const DIGITS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'];

/**
 * One group of three digits. `inner`: the group follows a higher one (1.005 → "một nghìn không trăm linh năm"), so
 * an empty hundreds place is still said and a lone unit takes "linh".
 * Units after tens follow speech, not spelling: 21 hai mươi mốt, 24 hai mươi tư, 25 hai mươi lăm, 15 mười lăm,
 * but 11 mười một, 14 mười bốn, 105 một trăm linh năm.
 */
function group(n: number, inner: boolean, d: Dialect): string[] {
  const h = Math.floor(n / 100);
  const t = Math.floor(n / 10) % 10;
  const u = n % 10;
  const w: string[] = [];
  if (h > 0 || inner) w.push(DIGITS[h], 'trăm');
  if (t === 0) {
    if (u > 0) w.push(...(w.length ? [d.south ? 'lẻ' : 'linh', DIGITS[u]] : [DIGITS[u]]));
  } else if (t === 1) {
    w.push('mười');
    if (u > 0) w.push(u === 5 ? 'lăm' : DIGITS[u]);
  } else {
    w.push(DIGITS[t], 'mươi');
    if (u > 0) w.push(u === 1 ? 'mốt' : u === 4 ? 'tư' : u === 5 ? 'lăm' : DIGITS[u]);
  }
  return w;
}

/** Below one billion: groups for triệu and nghìn; all-zero groups are skipped. */
function belowBillion(n: number, inner: boolean, d: Dialect): string[] {
  const names = ['triệu', d.south ? 'ngàn' : 'nghìn', ''];
  const groups = [Math.floor(n / 1e6) % 1000, Math.floor(n / 1e3) % 1000, n % 1000];
  const w: string[] = [];
  groups.forEach((g, i) => {
    if (g === 0) return;
    w.push(...group(g, inner || w.length > 0, d));
    if (names[i]) w.push(names[i]);
  });
  return w;
}

function words(n: number, d: Dialect): string[] {
  if (n >= 1e9) {
    const lo = n % 1e9;
    return [...words(Math.floor(n / 1e9), d), 'tỷ', ...(lo ? belowBillion(lo, true, d) : [])];
  }
  return belowBillion(n, false, d);
}

export function readDigits(digits: string): string {
  return [...digits].map((c) => DIGITS[Number(c)]).join(' ');
}

/** An integer given as digits. Longer than 15 digits (no real quantity is): read digit by digit. */
export function readInteger(digits: string, d: Dialect = {}): string {
  const s = digits.replace(/^0+(?=\d)/, '');
  if (s.length > 15) return readDigits(digits);
  const n = Number(s);
  return n === 0 ? 'không' : words(n, d).join(' ');
}

/** Decimals are read with "phẩy": 2,5 → hai phẩy năm; leading zeros of the fraction are said (1,05 → một phẩy không năm). */
export function readDecimal(int: string, frac: string, d: Dialect = {}): string {
  const zeros = /^0*/.exec(frac)![0];
  const rest = frac.slice(zeros.length);
  const fracWords = [...zeros].map(() => 'không');
  if (rest) fracWords.push(rest.length <= 2 ? readInteger(rest, d) : readDigits(rest));
  return `${readInteger(int, d)} phẩy ${fracWords.join(' ')}`;
}

/**
 * A number as written in Vietnamese text: "." groups thousands (1.250), "," is the decimal mark (2,5). A dot
 * followed by other than three digits is taken as a decimal point (2.5). Anything else is read part by part.
 */
export function readNumber(token: string, d: Dialect = {}): string {
  let m = /^(\d{1,3}(?:\.\d{3})+)(?:,(\d+))?$/.exec(token);
  if (m) {
    const int = m[1].replace(/\./g, '');
    return m[2] ? readDecimal(int, m[2], d) : readInteger(int, d);
  }
  if ((m = /^(\d+)[.,](\d+)$/.exec(token))) return readDecimal(m[1], m[2], d);
  if (/^\d+$/.test(token)) {
    // Codes with a leading zero (0123) are read digit by digit; 05 is just five.
    return token.length > 2 && token.startsWith('0') ? readDigits(token) : readInteger(token, d);
  }
  return token
    .split(/([.,])/)
    .map((p) => (p === '.' ? ' chấm ' : p === ',' ? ', ' : p ? readNumber(p, d) : ''))
    .join('')
    .trim();
}
