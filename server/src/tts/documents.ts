import { readInteger, type Dialect } from './numbers.ts';
import { ABBREVIATIONS } from './abbreviations.ts';

/**
 * Numbers of legal documents (số hiệu văn bản): 100/2019/NĐ-CP, 39/2020/TT-BTTTT, 1234/QĐ-UBND, Luật số 31/2024/QH15.
 * An announcer reads them "Nghị định một trăm năm hai nghìn không trăm mười chín của Chính phủ": the number, "năm"
 * and the year, "của" and the issuer; the type code repeats the word already said (Nghị định, Thông tư) and is dropped.
 * Without this, "12/2026/NĐ-CP" was read as a month ("tháng mười hai năm …").
 */
const TYPES = new Set(['NĐ', 'QĐ', 'TT', 'NQ', 'CT', 'KH', 'TB', 'HD', 'CV', 'BC', 'TTr', 'CĐ', 'QC', 'KL']);
const ISSUERS: Record<string, string> = {
  CP: 'Chính phủ', TTg: 'Thủ tướng Chính phủ', UBND: 'Ủy ban nhân dân', HĐND: 'Hội đồng nhân dân', UBTVQH: 'Ủy ban Thường vụ Quốc hội',
  TW: 'Trung ương', TU: 'Tỉnh ủy', ĐU: 'Đảng ủy', BCĐ: 'Ban Chỉ đạo', BCH: 'Ban Chấp hành',
  BTTTT: 'Bộ Thông tin và Truyền thông', BYT: 'Bộ Y tế', BTC: 'Bộ Tài chính', BCA: 'Bộ Công an', BQP: 'Bộ Quốc phòng', BNV: 'Bộ Nội vụ',
  BNNPTNT: 'Bộ Nông nghiệp và Phát triển nông thôn', BNNMT: 'Bộ Nông nghiệp và Môi trường', BTNMT: 'Bộ Tài nguyên và Môi trường',
  BGDĐT: 'Bộ Giáo dục và Đào tạo', BLĐTBXH: 'Bộ Lao động Thương binh và Xã hội', BXD: 'Bộ Xây dựng', BGTVT: 'Bộ Giao thông vận tải',
  BCT: 'Bộ Công Thương', BKHCN: 'Bộ Khoa học và Công nghệ', BVHTTDL: 'Bộ Văn hóa, Thể thao và Du lịch',
};
const CODE = '[A-ZĐ][A-Za-zĐđ]*\\d*(?:-[A-ZĐ][A-Za-zĐđ]*\\d*)*';
const RE = new RegExp(`(?<![\\d/.])(\\d{1,5})(?:/(\\d{4}))?/(${CODE})(?![\\p{L}\\p{N}])`, 'gu');

/** "của …" for a code, or null when a part is unknown (the code is then left for the abbreviation rules). */
function issuer(code: string, d: Dialect): string | null {
  const parts = code.split('-');
  if (parts.length > 1 && TYPES.has(parts[0])) parts.shift();
  const words = parts.map((p) => {
    const qh = /^QH(\d{1,2})$/.exec(p); // Luật số 31/2024/QH15: passed by the 15th National Assembly
    return qh ? `Quốc hội khóa ${readInteger(qh[1], d)}` : (ISSUERS[p] ?? ABBREVIATIONS[p] ?? null);
  });
  return words.every(Boolean) ? `của ${words.join(' ')}` : null;
}

export function documentNumbers(s: string, d: Dialect): string {
  return s.replace(RE, (all, n: string, year: string | undefined, code: string) => {
    const by = issuer(code, d);
    if (!by && !year) return all;
    return ` ${readInteger(n, d)}${year ? ` năm ${readInteger(year, d)}` : ''} ${by ?? code} `;
  });
}
