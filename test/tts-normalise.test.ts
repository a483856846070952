import { describe, expect, it } from 'vitest';
import { normaliseVietnamese as norm } from '../server/src/tts/normalise.ts';
import { readInteger, readNumber } from '../server/src/tts/numbers.ts';

describe('Vietnamese numbers', () => {
  it.each([
    ['0', 'không'],
    ['4', 'bốn'],
    ['5', 'năm'],
    ['10', 'mười'],
    ['11', 'mười một'],
    ['14', 'mười bốn'],
    ['15', 'mười lăm'],
    ['20', 'hai mươi'],
    ['21', 'hai mươi mốt'],
    ['24', 'hai mươi tư'],
    ['25', 'hai mươi lăm'],
    ['55', 'năm mươi lăm'],
    ['100', 'một trăm'],
    ['101', 'một trăm linh một'],
    ['105', 'một trăm linh năm'],
    ['110', 'một trăm mười'],
    ['115', 'một trăm mười lăm'],
    ['1000', 'một nghìn'],
    ['1005', 'một nghìn không trăm linh năm'],
    ['1250', 'một nghìn hai trăm năm mươi'],
    ['2026', 'hai nghìn không trăm hai mươi sáu'],
    ['10010', 'mười nghìn không trăm mười'],
    ['25000', 'hai mươi lăm nghìn'],
    ['1000000', 'một triệu'],
    ['2500000', 'hai triệu năm trăm nghìn'],
    ['1000050', 'một triệu không trăm năm mươi'],
    ['3000000000', 'ba tỷ'],
    ['1200000000000', 'một nghìn hai trăm tỷ'],
  ])('reads %s as "%s"', (n, words) => expect(readInteger(n)).toBe(words));

  it.each([
    ['1.250', 'một nghìn hai trăm năm mươi'],
    ['2,5', 'hai phẩy năm'],
    ['0,75', 'không phẩy bảy mươi lăm'],
    ['1,05', 'một phẩy không năm'],
    ['12.500.000', 'mười hai triệu năm trăm nghìn'],
    ['1.234,5', 'một nghìn hai trăm ba mươi tư phẩy năm'],
    ['2.5', 'hai phẩy năm'],
    ['05', 'năm'],
  ])('reads the written number %s as "%s"', (n, words) => expect(readNumber(n)).toBe(words));

  it('says ngàn and lẻ for Southern listeners', () => {
    expect(readInteger('1005', { south: true })).toBe('một ngàn không trăm lẻ năm');
  });
});

describe('normaliseVietnamese', () => {
  it.each([
    // storm warnings (tin bão)
    [
      'Bão số 5 cách bờ 200km, gió mạnh cấp 12, giật cấp 15; lượng mưa 150-200mm',
      'Bão số năm cách bờ hai trăm ki-lô-mét, gió mạnh cấp mười hai, giật cấp mười lăm; lượng mưa một trăm năm mươi đến hai trăm mi-li-mét',
    ],
    [
      'Vị trí tâm bão cách đảo Bạch Long Vĩ 120 km, di chuyển theo hướng Tây, tốc độ 15-20 km/h.',
      'Vị trí tâm bão cách đảo Bạch Long Vĩ một trăm hai mươi ki-lô-mét, di chuyển theo hướng Tây, tốc độ mười lăm đến hai mươi ki-lô-mét trên giờ.',
    ],
    [
      'Mưa to đến rất to, lượng mưa phổ biến 50-100mm/24h, có nơi trên 150 mm/24h.',
      'Mưa to đến rất to, lượng mưa phổ biến năm mươi đến một trăm mi-li-mét trong hai mươi tư giờ, có nơi trên một trăm năm mươi mi-li-mét trong hai mươi tư giờ.',
    ],
    [
      'Áp suất khí quyển 965 hPa, sức gió mạnh nhất 40 m/s.',
      'Áp suất khí quyển chín trăm sáu mươi lăm héc-tô-pát-xcan, sức gió mạnh nhất bốn mươi mét trên giây.',
    ],
    [
      'BCH PCTT&TKCN xã đề nghị bà con neo đậu tàu thuyền trước 17h30 ngày 12/9.',
      'Ban chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn xã đề nghị bà con neo đậu tàu thuyền trước mười bảy giờ ba mươi phút ngày mười hai tháng chín.',
    ],
    // saltwater intrusion (xâm nhập mặn)
    [
      'Độ mặn tại cống Cái Lớn đo được 4‰, dự báo tăng lên 5-6‰ từ ngày 15-18/3.',
      'Độ mặn tại cống Cái Lớn đo được bốn phần nghìn, dự báo tăng lên năm đến sáu phần nghìn từ ngày mười lăm đến ngày mười tám tháng ba.',
    ],
    [
      'Bà con chỉ lấy nước khi độ mặn dưới 1g/l.',
      'Bà con chỉ lấy nước khi độ mặn dưới một gam trên lít.',
    ],
    // vaccination day (tiêm chủng)
    [
      'Ngày 12/9/2026, từ 7h30 đến 11h, tại Trạm Y tế xã',
      'Ngày mười hai tháng chín năm hai nghìn không trăm hai mươi sáu, từ bảy giờ ba mươi phút đến mười một giờ, tại Trạm Y tế xã',
    ],
    [
      'Trẻ từ 6-59 tháng tuổi được uống vitamin A, mang theo sổ tiêm chủng và thẻ BHYT.',
      'Trẻ từ sáu đến năm mươi chín tháng tuổi được uống vitamin A, mang theo sổ tiêm chủng và thẻ bảo hiểm y tế.',
    ],
    // meeting notices (thông báo họp)
    [
      'UBND xã mời bà con dự họp lúc 14h ngày 20/10',
      'Ủy ban nhân dân xã mời bà con dự họp lúc mười bốn giờ ngày hai mươi tháng mười',
    ],
    [
      'HĐND và UBMTTQ xã tổ chức tiếp xúc cử tri vào thứ 4, ngày 5/11, lúc 8h00 tại nhà văn hóa ấp 3.',
      'Hội đồng nhân dân và Ủy ban Mặt trận Tổ quốc xã tổ chức tiếp xúc cử tri vào thứ tư, ngày năm tháng mười một, lúc tám giờ tại nhà văn hóa ấp ba.',
    ],
    [
      'Hạn nộp hồ sơ trước tháng 4/2026; mức hỗ trợ 1.250.000 đồng/hộ, tương đương 15% kinh phí.',
      'Hạn nộp hồ sơ trước tháng tư năm hai nghìn không trăm hai mươi sáu; mức hỗ trợ một triệu hai trăm năm mươi nghìn đồng mỗi hộ, tương đương mười lăm phần trăm kinh phí.',
    ],
    // commune police phone numbers (công an xã)
    [
      'Mọi thông tin xin báo CA xã qua số 0912 345 678 hoặc 0912345678.',
      'Mọi thông tin xin báo công an xã qua số không chín một hai ba bốn năm sáu bảy tám hoặc không chín một hai ba bốn năm sáu bảy tám.',
    ],
    [
      'Trực ban Công an xã: 0296.3851.234; khi có cháy gọi 114.',
      'Trực ban Công an xã: không hai chín sáu ba tám năm một hai ba bốn; khi có cháy gọi một một bốn.',
    ],
    [
      'Đường dây nóng 1900 9095, hoặc +84 912 345 678.',
      'Đường dây nóng một chín không không chín không chín năm, hoặc cộng tám bốn chín một hai ba bốn năm sáu bảy tám.',
    ],
    // weather and places
    [
      'Nhiệt độ TP. Huế hôm nay 35°C, đêm xuống -2°C ở vùng núi; độ ẩm 80-85%.',
      'Nhiệt độ thành phố Huế hôm nay ba mươi lăm độ C, đêm xuống âm hai độ C ở vùng núi; độ ẩm tám mươi đến tám mươi lăm phần trăm.',
    ],
    [
      'Đoàn công tác từ TP.HCM về P.5, Q. Bình Thạnh và TT. Phong Điền, v.v.',
      'Đoàn công tác từ thành phố Hồ Chí Minh về phường năm, quận Bình Thạnh và thị trấn Phong Điền, vân vân.',
    ],
    [
      'Diện tích lúa bị ngập 2,5 ha, thiệt hại khoảng 50.000đ/m2.',
      'Diện tích lúa bị ngập hai phẩy năm héc-ta, thiệt hại khoảng năm mươi nghìn đồng trên mét vuông.',
    ],
  ])('%s', (input, spoken) => expect(norm(input)).toBe(spoken));

  it.each([
    ['tháng 4', 'tháng tư'],
    ['tháng 1', 'tháng một'],
    ['Tháng 12', 'Tháng mười hai'],
    ['lần thứ 1', 'lần thứ nhất'],
    ['5 giờ', 'năm giờ'],
    ['7h', 'bảy giờ'],
    ['17h30', 'mười bảy giờ ba mươi phút'],
    ['9g15', 'chín giờ mười lăm phút'],
    ['13:45', 'mười ba giờ bốn mươi lăm phút'],
    ['7h30-11h', 'bảy giờ ba mươi phút đến mười một giờ'],
    ['24/24h', 'hai mươi tư trên hai mươi tư giờ'],
    ['01/02/2026', 'ngày một tháng hai năm hai nghìn không trăm hai mươi sáu'],
    ['mùng 5/5', 'mùng năm tháng năm'],
    ['20-25', 'hai mươi đến hai mươi lăm'],
    ['200mm', 'hai trăm mi-li-mét'],
    ['100 km/h', 'một trăm ki-lô-mét trên giờ'],
    ['35°C', 'ba mươi lăm độ C'],
    ['15%', 'mười lăm phần trăm'],
    ['3 m³', 'ba mét khối'],
    ['Covid-19', 'cô-vít mười chín'],
    ['QL1A', 'quốc lộ một A'],
  ])('reads %s as "%s"', (input, spoken) => expect(norm(input)).toBe(spoken));

  it('leaves words that only look like units or abbreviations alone', () => {
    expect(norm('5 mẫu ruộng, 3 gia đình, 2 hay 3 người')).toBe('năm mẫu ruộng, ba gia đình, hai hay ba người');
    expect(norm('Thông tư 39/2020/TT-BTTTT')).not.toMatch(/thị trấn/);
    expect(norm('TT y tế')).toBe('TT y tế');
    expect(norm('CASE')).toBe('CASE');
  });

  it('keeps text without anything to expand unchanged, bar whitespace', () => {
    expect(norm('  Kính thưa  bà con\nnhân dân trong xã. ')).toBe('Kính thưa bà con nhân dân trong xã.');
  });

  it('reads numbers the Southern way for a Southern voice', () => {
    expect(norm('Độ mặn 4‰, hỗ trợ 1.500.000đ', { south: true })).toBe('Độ mặn bốn phần ngàn, hỗ trợ một triệu năm trăm ngàn đồng');
  });
});

/**
 * Issue 9 §1: bulletins read as a Vietnamese reader reads them. Each sentence is written for this test in the style of
 * public commune notices; the comment above each class says where that way of writing comes from. The expected text
 * is how a native announcer says it.
 */
describe('bulletins as a Vietnamese reader reads them', () => {
  // Roman numerals: school terms (học kỳ I, II), quarters in reports (quý IV/2026), legislatures and congresses
  // (Quốc hội khóa XVI, Đại hội XIII, lần thứ IV), centuries (thế kỷ XXI), school levels (cấp II), regions (Quân khu IX).
  it.each([
    [
      'Trường THCS thông báo họp phụ huynh cuối học kỳ I năm học 2025-2026.',
      'Trường trung học cơ sở thông báo họp phụ huynh cuối học kỳ một năm học hai nghìn không trăm hai mươi lăm đến hai nghìn không trăm hai mươi sáu.',
    ],
    [
      'UBND xã triển khai kế hoạch thu ngân sách quý IV/2026 và quý I/2027.',
      'Ủy ban nhân dân xã triển khai kế hoạch thu ngân sách quý bốn năm hai nghìn không trăm hai mươi sáu và quý một năm hai nghìn không trăm hai mươi bảy.',
    ],
    ['Báo cáo kết quả quý 3/2026.', 'Báo cáo kết quả quý ba năm hai nghìn không trăm hai mươi sáu.'],
    [
      'Cử tri đi bầu cử đại biểu Quốc hội khóa XVI và đại biểu HĐND các cấp nhiệm kỳ 2026-2031.',
      'Cử tri đi bầu cử đại biểu Quốc hội khóa mười sáu và đại biểu Hội đồng nhân dân các cấp nhiệm kỳ hai nghìn không trăm hai mươi sáu đến hai nghìn không trăm ba mươi mốt.',
    ],
    [
      'Học tập Nghị quyết Đại hội XIII của Đảng, xây dựng nông thôn mới trong thế kỷ XXI.',
      'Học tập Nghị quyết Đại hội mười ba của Đảng, xây dựng nông thôn mới trong thế kỷ hai mươi mốt.',
    ],
    ['Hội nghị Ban Chấp hành Đảng bộ xã lần thứ IV; Quân khu IX; trường cấp II.', 'Hội nghị Ban Chấp hành Đảng bộ xã lần thứ tư; Quân khu chín; trường cấp hai.'],
  ])('Roman numerals: %s', (input, spoken) => expect(norm(input)).toBe(spoken));

  it('leaves the word "I" and Latin letters that are also Roman digits alone', () => {
    expect(norm('Cuộc thi "I love Việt Nam" cho học sinh; thi bằng lái hạng C; uống vitamin D.')).toBe('Cuộc thi "I love Việt Nam" cho học sinh; thi bằng lái hạng C; uống vitamin D.');
    expect(norm('quý vị và bà con')).toBe('quý vị và bà con');
  });

  // Compound abbreviations: department and ministry names as printed on official letterheads (Sở GD&ĐT, Sở TN&MT,
  // Sở LĐ-TB&XH, Sở VH,TT&DL, Sở KH&ĐT), Ban CHQS xã (commune military command), ATNĐ in weather bulletins.
  it.each([
    [
      'Phòng GD&ĐT phối hợp với Ban CHQS xã tổ chức khám tuyển nghĩa vụ quân sự.',
      'Phòng Giáo dục và Đào tạo phối hợp với Ban Chỉ huy quân sự xã tổ chức khám tuyển nghĩa vụ quân sự.',
    ],
    [
      'Sở TN&MT và Sở LĐ-TB&XH hướng dẫn hồ sơ; Sở KH&ĐT, Sở KH&CN, Sở VH,TT&DL cùng tham gia.',
      'Sở Tài nguyên và Môi trường và Sở Lao động Thương binh và Xã hội hướng dẫn hồ sơ; Sở Kế hoạch và Đầu tư, Sở Khoa học và Công nghệ, Sở Văn hóa, Thể thao và Du lịch cùng tham gia.',
    ],
    ['Sở GD-ĐT và Sở NN&MT', 'Sở Giáo dục và Đào tạo và Sở Nông nghiệp và Môi trường'],
    ['ATNĐ đã mạnh lên thành bão; Đ/c Chủ tịch UBND xã chủ trì.', 'áp thấp nhiệt đới đã mạnh lên thành bão; Đồng chí Chủ tịch Ủy ban nhân dân xã chủ trì.'],
    ['Mọi ý kiến xin gửi về ĐT: 0912 345 678.', 'Mọi ý kiến xin gửi về điện thoại: không chín một hai ba bốn năm sáu bảy tám.'],
  ])('abbreviations: %s', (input, spoken) => expect(norm(input)).toBe(spoken));

  // Lunar dates: village festivals (rằm tháng Giêng), Giỗ Tổ Hùng Vương (10/3 âm lịch), Tết Đoan Ngọ (5/5 âm lịch),
  // ông Công ông Táo (23 tháng Chạp); lunar month 1 is Giêng, 11 is Một, 12 is Chạp; days 1–10 are "mùng", 15 is rằm.
  it.each([
    ['Lễ cầu an được tổ chức vào ngày 15/1 âm lịch tại đình làng.', 'Lễ cầu an được tổ chức vào ngày rằm tháng Giêng tại đình làng.'],
    ['Nghỉ lễ Giỗ Tổ Hùng Vương (mùng 10/3 âm lịch).', 'Nghỉ lễ Giỗ Tổ Hùng Vương (mùng mười tháng ba âm lịch).'],
    ['Tết Đoan Ngọ ngày 5/5 (ÂL), tiễn ông Táo ngày 23/12 âm lịch.', 'Tết Đoan Ngọ ngày mùng năm tháng năm âm lịch, tiễn ông Táo ngày hai mươi ba tháng Chạp âm lịch.'],
    ['Chợ phiên họp vào tháng 11 âm lịch; Rằm tháng 7 nhắc bà con phòng cháy.', 'Chợ phiên họp vào tháng Một âm lịch; Rằm tháng bảy nhắc bà con phòng cháy.'],
    ['Khai hội ngày 10/3 năm Bính Ngọ.', 'Khai hội ngày mùng mười tháng ba năm Bính Ngọ.'],
    ['Ngày 15/1 họp tổng kết.', 'Ngày mười lăm tháng một họp tổng kết.'], // a solar date stays solar
  ])('lunar dates: %s', (input, spoken) => expect(norm(input)).toBe(spoken));

  // Fractions in damage and land reports ("khoảng 1/3 diện tích", "hơn 2/3 số hộ"); counts out of a total ("5/7 ấp").
  it.each([
    ['Khoảng 1/3 diện tích lúa Đông Xuân bị ngập úng.', 'Khoảng một phần ba diện tích lúa Đông Xuân bị ngập úng.'],
    ['Hơn 2/3 số hộ đã đăng ký tiêm vắc-xin.', 'Hơn hai phần ba số hộ đã đăng ký tiêm vắc-xin.'],
    ['Đến nay 5/7 ấp đã có nước sạch.', 'Đến nay năm trên bảy ấp đã có nước sạch.'],
    ['Tiêm bù từ ngày 1/3 đến 2/3.', 'Tiêm bù từ ngày một tháng ba đến ngày hai tháng ba.'], // dates stay dates
  ])('fractions: %s', (input, spoken) => expect(norm(input)).toBe(spoken));

  // Streets and squares named after dates (đường 30/4, Quảng trường 2/9, đường 3/2) are names, not "ngày …".
  it.each([
    ['Cấm xe tuyến đường 30/4 từ 19h, mít tinh tại Quảng trường 2/9.', 'Cấm xe tuyến đường ba mươi tháng tư từ mười chín giờ, mít tinh tại Quảng trường hai tháng chín.'],
    ['Nghỉ lễ ngày 30/4.', 'Nghỉ lễ ngày ba mươi tháng tư.'],
  ])('street names: %s', (input, spoken) => expect(norm(input)).toBe(spoken));

  // Money after a number word, as support notices write it: "5 triệu đ", "200 nghìn ₫/tháng", "1,2 tỷ VNĐ".
  it('money: đ, ₫ and VNĐ after nghìn, triệu, tỷ', () => {
    expect(norm('Mức hỗ trợ 5 triệu đ mỗi hộ, học sinh được 200 nghìn ₫/tháng, tổng kinh phí 1,2 tỷ VNĐ (đơn vị tính: VNĐ).')).toBe(
      'Mức hỗ trợ năm triệu đồng mỗi hộ, học sinh được hai trăm nghìn đồng mỗi tháng, tổng kinh phí một phẩy hai tỷ đồng (đơn vị tính: đồng).',
    );
  });

  // Document numbers as land and election notices cite them (Luật Đất đai số 31/2024/QH15, 1234/QĐ-UBND, NĐ-CP), read
  // "số … năm … của …"; and land-use codes of the land register after "đất" (LUC, ONT, CLN).
  it.each([
    [
      'Theo Luật Đất đai số 31/2024/QH15 và Quyết định số 1234/QĐ-UBND, hộ ông A được chuyển từ đất LUC sang đất ONT+CLN.',
      'Theo Luật Đất đai số ba mươi mốt năm hai nghìn không trăm hai mươi tư của Quốc hội khóa mười lăm và Quyết định số một nghìn hai trăm ba mươi tư của Ủy ban nhân dân, hộ ông A được chuyển từ đất chuyên trồng lúa sang đất ở tại nông thôn và đất trồng cây lâu năm.',
    ],
    ['Thực hiện Nghị định 12/2026/NĐ-CP', 'Thực hiện Nghị định mười hai năm hai nghìn không trăm hai mươi sáu của Chính phủ'],
  ])('documents and land: %s', (input, spoken) => expect(norm(input)).toBe(spoken));

  // Agriculture and weather bulletins: fertiliser formulas (phân NPK 16-16-8) are not ranges; storm positions in
  // degrees north/east (17,5°N); disease names in health notices (SXH, TCM).
  it.each([
    ['Bón thúc bằng phân NPK 16-16-8, lượng 20-25 kg/sào.', 'Bón thúc bằng phân NPK mười sáu, mười sáu, tám, lượng hai mươi đến hai mươi lăm ki-lô-gam mỗi sào.'],
    ['Tâm bão ở khoảng 17,5°N; 110,2°E.', 'Tâm bão ở khoảng mười bảy phẩy năm độ Vĩ Bắc; một trăm mười phẩy hai độ Kinh Đông.'],
    ['Chủ động phòng chống SXH và bệnh TCM.', 'Chủ động phòng chống sốt xuất huyết và bệnh tay chân miệng.'],
  ])('agriculture, weather and health: %s', (input, spoken) => expect(norm(input)).toBe(spoken));

  it("applies a commune's own readings first, longest first, as whole words and as written", () => {
    const readings = [
      { written: 'Mỹ I', spoken: 'Mỹ Một' },
      { written: 'Mỹ', spoken: 'Mỉ' },
      { written: 'Đắk Pri', spoken: 'Đác Pri' },
      { written: 'UBND', spoken: 'Ủy ban' },
      { written: 'ấp 3A', spoken: 'ấp ba A' },
    ];
    expect(norm('Bà con ấp Mỹ I và buôn Đắk Pri họp tại UBND xã, ấp 3A, Mỹ Phú, Mỹ.', {}, readings)).toBe(
      'Bà con ấp Mỹ Một và buôn Đác Pri họp tại Ủy ban xã, ấp ba A, Mỉ Phú, Mỉ.',
    );
    expect(norm('Mỹ Imperial, ấp 3AB, ubnd', {}, readings)).toBe('Mỉ Imperial, ấp 3AB, ubnd'.replace('3AB', 'ba AB'));
  });
});
