import { alternation, B } from './patterns.ts';

/**
 * Abbreviations of local government, departments and bulletins, as a data table. Case-sensitive. Bare "TT" is left
 * alone on purpose: it is thị trấn, trung tâm, Thủ tướng or thông tư (39/2020/TT-BTTTT) depending on context; only
 * "TT." before a name is thị trấn.
 */
export const ABBREVIATIONS: Record<string, string> = {
  UBMTTQVN: 'Ủy ban Mặt trận Tổ quốc Việt Nam', UBMTTQ: 'Ủy ban Mặt trận Tổ quốc', MTTQVN: 'Mặt trận Tổ quốc Việt Nam', MTTQ: 'Mặt trận Tổ quốc',
  UBND: 'Ủy ban nhân dân', HĐND: 'Hội đồng nhân dân', UBTVQH: 'Ủy ban Thường vụ Quốc hội', ĐBQH: 'đại biểu Quốc hội', UBBC: 'Ủy ban bầu cử',
  BCH: 'Ban chỉ huy', BCHQS: 'Ban Chỉ huy quân sự', CHQS: 'Chỉ huy quân sự', QS: 'quân sự', BCĐ: 'Ban Chỉ đạo', TW: 'Trung ương',
  PCTT: 'phòng chống thiên tai', TKCN: 'tìm kiếm cứu nạn', PCCC: 'phòng cháy chữa cháy', PCCCR: 'phòng cháy chữa cháy rừng', CNCH: 'cứu nạn cứu hộ',
  ATNĐ: 'áp thấp nhiệt đới', KTTV: 'khí tượng thủy văn',
  CAND: 'Công an nhân dân', CA: 'công an', CSGT: 'cảnh sát giao thông', ATGT: 'an toàn giao thông', TTATGT: 'trật tự an toàn giao thông',
  THCS: 'trung học cơ sở', THPT: 'trung học phổ thông',
  BHYT: 'bảo hiểm y tế', BHXH: 'bảo hiểm xã hội', TTYT: 'Trung tâm Y tế', TYT: 'Trạm Y tế', KHHGĐ: 'kế hoạch hóa gia đình',
  SXH: 'sốt xuất huyết', TCM: 'tay chân miệng', ATTP: 'an toàn thực phẩm', VSATTP: 'vệ sinh an toàn thực phẩm', VSMT: 'vệ sinh môi trường',
  HTX: 'hợp tác xã', NTM: 'nông thôn mới', BVTV: 'bảo vệ thực vật', SXKD: 'sản xuất kinh doanh', NHCSXH: 'Ngân hàng Chính sách xã hội',
  QSDĐ: 'quyền sử dụng đất', GCNQSDĐ: 'giấy chứng nhận quyền sử dụng đất', GCN: 'giấy chứng nhận',
  CCCD: 'căn cước công dân', SĐT: 'số điện thoại', TTHC: 'thủ tục hành chính', DVC: 'dịch vụ công', CNTT: 'công nghệ thông tin',
  ĐVHC: 'đơn vị hành chính', CBCCVC: 'cán bộ, công chức, viên chức', TDP: 'tổ dân phố', KDC: 'khu dân cư',
  HLHPN: 'Hội Liên hiệp Phụ nữ', LHPN: 'Liên hiệp Phụ nữ', HCCB: 'Hội Cựu chiến binh', CCB: 'cựu chiến binh', NCT: 'người cao tuổi',
  TNCS: 'Thanh niên Cộng sản', ĐTN: 'Đoàn Thanh niên',
  QL: 'quốc lộ', ĐBSCL: 'đồng bằng sông Cửu Long', HCM: 'Hồ Chí Minh', VN: 'Việt Nam',
  VNĐ: 'đồng', VND: 'đồng', USD: 'đô la Mỹ',
  'COVID-19': 'cô-vít mười chín', 'Covid-19': 'cô-vít mười chín',
};

/**
 * Names of departments and ministries made of parts, written with "&", "-", "," or nothing between them (GD&ĐT,
 * GD-ĐT, GDĐT, LĐ-TB&XH, VH,TT&DL). One entry per name: a part can mean different words in different names
 * (KH is khoa học in KH&CN, kế hoạch in KH&ĐT; ĐT is đào tạo in GD&ĐT, đầu tư in KH&ĐT).
 */
const COMPOUNDS: [string[], string][] = [
  [['GD', 'ĐT'], 'Giáo dục và Đào tạo'],
  [['TN', 'MT'], 'Tài nguyên và Môi trường'],
  [['LĐ', 'TB', 'XH'], 'Lao động Thương binh và Xã hội'],
  [['NN', 'PTNT'], 'Nông nghiệp và Phát triển nông thôn'],
  [['NN', 'MT'], 'Nông nghiệp và Môi trường'],
  [['KH', 'CN'], 'Khoa học và Công nghệ'],
  [['KH', 'ĐT'], 'Kế hoạch và Đầu tư'],
  [['TC', 'KH'], 'Tài chính Kế hoạch'],
  [['VH', 'TT', 'DL'], 'Văn hóa, Thể thao và Du lịch'],
  [['VH', 'TT', 'TT'], 'Văn hóa, Thông tin và Thể thao'],
  [['VH', 'TT'], 'Văn hóa Thông tin'],
  [['VH', 'XH'], 'Văn hóa Xã hội'],
  [['TT', 'TT'], 'Thông tin và Truyền thông'],
  [['KT', 'XH'], 'kinh tế xã hội'],
  [['KT', 'HT'], 'Kinh tế Hạ tầng'],
  [['QP', 'AN'], 'quốc phòng an ninh'],
  [['AN', 'QP'], 'an ninh quốc phòng'],
  [['AN', 'TT'], 'an ninh trật tự'],
  [['PCTT', 'TKCN'], 'phòng chống thiên tai và tìm kiếm cứu nạn'],
  [['PCCC', 'CNCH'], 'phòng cháy chữa cháy và cứu nạn cứu hộ'],
];
const SEP = '(?:\\s*[&,\\-–]\\s*)?';
const partsKey = (written: string) => written.replace(/[\s&,\-–]/g, '');
const COMPOUND_WORDS = new Map(COMPOUNDS.map(([parts, words]) => [parts.join(''), words]));
const COMPOUND_RE = new RegExp(
  `${B}(${COMPOUNDS.map(([p]) => p)
    .sort((a, b) => b.join('').length - a.join('').length)
    .map((p) => p.join(SEP))
    .join('|')})(?![\\p{L}])`,
  'gu',
);

/** Place prefixes written with a dot before a name or number: "TP. Huế", "P.5", "Q. 3", "TT. Phong Điền". */
const PLACE_PREFIXES: Record<string, string> = { 'TP.': 'thành phố', 'Tp.': 'thành phố', 'TX.': 'thị xã', 'TT.': 'thị trấn', 'P.': 'phường', 'Q.': 'quận', 'X.': 'xã' };
/** Road numbers: ĐT.741, ĐT 741, TL8, QL.1A — a short number, not the start of a phone number ("ĐT: 0912 345 678"). */
const ROADS: Record<string, string> = { ĐT: 'đường tỉnh', TL: 'tỉnh lộ', HL: 'hương lộ', ĐH: 'đường huyện', QL: 'quốc lộ' };

/** Land-use codes of the land register, after "đất" (Thông tư 08/2024/TT-BTNMT): đất ONT, đất LUC+CLN. */
const LAND_USE: Record<string, string> = {
  ONT: 'ở tại nông thôn', ODT: 'ở tại đô thị', LUC: 'chuyên trồng lúa', LUK: 'trồng lúa còn lại', LUA: 'trồng lúa', CLN: 'trồng cây lâu năm',
  HNK: 'trồng cây hàng năm khác', BHK: 'bằng trồng cây hàng năm khác', NTS: 'nuôi trồng thủy sản', RSX: 'rừng sản xuất', RPH: 'rừng phòng hộ',
  DGT: 'giao thông', TMD: 'thương mại dịch vụ', SKC: 'cơ sở sản xuất phi nông nghiệp',
};
const LAND_CODE = `(?:${alternation(Object.keys(LAND_USE))})`;
const LAND_RE = new RegExp(`([đĐ]ất)\\s+(${LAND_CODE}(?:\\s*\\+\\s*${LAND_CODE})*)(?![\\p{L}\\p{N}])`, 'gu');

const ABBREV_RE = new RegExp(`${B}(${alternation(Object.keys(ABBREVIATIONS))})(?![\\p{L}])`, 'gu');
const PLACE_RE = new RegExp(`${B}(${alternation(Object.keys(PLACE_PREFIXES))})\\s*(?=[\\p{Lu}\\d])`, 'gu');
const ROAD_RE = new RegExp(`${B}(${alternation(Object.keys(ROADS))})\\.?\\s?(?=\\d{1,4}[A-Z]?(?![\\d.,\\s]?\\d))`, 'gu');

export function expandAbbreviations(s: string): string {
  return s
    .replace(/(?<![\p{L}])v\.v(?=\.)/gu, 'vân vân') // the dot after it ends the list (and often the sentence)
    .replace(/(?<![\p{L}])([đĐ])\/c(?![\p{L}])/gu, (_, d: string) => (d === 'Đ' ? 'Đồng chí' : 'đồng chí')) // đ/c Nguyễn Văn A
    .replace(/(?<![\p{L}])TP(?=\s|\.?[\p{Lu}])\.?/gu, 'thành phố ') // "TP Huế", "TP.HCM" without a space
    .replace(PLACE_RE, (_, p: string) => `${PLACE_PREFIXES[p]} `)
    .replace(/(?<![\p{L}])ĐT(?=\s*:|\s*(?:0|\+84)\d)/gu, 'điện thoại') // ĐT: 0912 …, not a road
    .replace(ROAD_RE, (_, r: string) => `${ROADS[r]} `)
    .replace(LAND_RE, (_, w: string, codes: string) => `${w} ${codes.split(/\s*\+\s*/).map((c) => LAND_USE[c]).join(' và đất ')}`)
    .replace(COMPOUND_RE, (m: string) => ` ${COMPOUND_WORDS.get(partsKey(m))} `)
    .replace(ABBREV_RE, (_, a: string) => ` ${ABBREVIATIONS[a]} `);
}
