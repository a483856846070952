import { readInteger, type Dialect } from './numbers.ts';
import { wordsPattern } from './patterns.ts';

/**
 * Fractions written a/b (1/3 diện tích, hơn 2/3 số hộ) are "một phần ba", "hai phần ba". They look like dates
 * (1/3 is also the first of March), so a/b is a fraction only when it is proper (a < b), is not after a day word
 * (ngày, mùng, từ, đến, trước, sau …) and either a quantity word follows it or an amount word comes before it.
 * Counts out of a total (5/7 xã) are read with "trên".
 */
const AFTER = [
  'diện tích', 'dân số', 'số', 'tổng', 'lượng', 'kinh phí', 'ngân sách', 'sản lượng', 'giá trị', 'thời gian', 'quãng đường', 'chiều dài',
  'khối lượng', 'công suất', 'phần', 'trong số', 'của', 'trở lên', 'lúa', 'đất', 'rừng'];
/** Counted things: "x out of y" (5/7 xã, đạt 9/10 tiêu chí) is said "năm trên bảy xã", not a fraction nor a date. */
const COUNTED = ['xã', 'phường', 'thôn', 'ấp', 'bản', 'xóm', 'tổ', 'hộ', 'người', 'trường', 'cụm', 'tiêu chí', 'chỉ tiêu', 'thửa', 'cơ sở'];
const BEFORE = ['chiếm', 'khoảng', 'gần', 'hơn', 'trên', 'dưới', 'mất', 'bằng', 'đạt', 'giảm', 'tăng', 'thêm', 'còn', 'ngót', 'non'];
const RE = /(?<![\p{L}\p{N}/.,])(\d{1,2})\s?\/\s?(\d{1,3})(?![\d/]|[.,]\d)/gu;
const AMOUNT_BEFORE = new RegExp(`(?<![\\p{L}])(?:${wordsPattern(BEFORE)})\\s+$`, 'u');
const COUNTED_AFTER = new RegExp(`^\\s+(?:${wordsPattern(COUNTED)})(?![\\p{L}])`, 'u');
const QUANTITY_AFTER = new RegExp(`^\\s+(?:${wordsPattern(AFTER)})(?![\\p{L}])`, 'u');
const DAY_BEFORE = /(?:ngày|mùng|mồng|hôm|từ|đến|trước|sau|vào|lúc|hạn|sáng|trưa|chiều|tối|đêm)\s*$/i;

export function fractions(s: string, d: Dialect): string {
  return s.replace(RE, (all, a: string, b: string, at: number, str: string) => {
    const before = str.slice(Math.max(0, at - 12), at);
    const after = str.slice(at + all.length, at + all.length + 24);
    if (!(+a <= +b) || DAY_BEFORE.test(before)) return all;
    if (COUNTED_AFTER.test(after)) return `${readInteger(a, d)} trên ${readInteger(b, d)}`;
    if (+a === +b || !(AMOUNT_BEFORE.test(before) || QUANTITY_AFTER.test(after))) return all;
    return `${readInteger(a, d)} phần ${readInteger(b, d)}`;
  });
}
