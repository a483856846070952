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
