/**
 * The reference demo fleet: province Tiền Giang, communes Đồng Thạnh (18 clusters) and Bình Phú (16 clusters),
 * each cluster with 4 horn speakers. Coordinates are spread plausibly around each hamlet.
 */
export interface DemoHamlet {
  id: string;
  name: string;
  lat: number;
  lon: number;
  clusters: number;
}
export interface DemoCommune {
  id: string;
  name: string;
  prefix: string;
  hamlets: DemoHamlet[];
}

export const DEMO_PROVINCE = { id: 'tien-giang', name: 'Tiền Giang', code: '82', kind: 'province' as const };

export const DEMO_COMMUNES: DemoCommune[] = [
  {
    id: 'dong-thanh',
    name: 'Đồng Thạnh',
    prefix: 'dt',
    hamlets: [
      { id: 'dt-thanh-hoa', name: 'Ấp Thạnh Hòa', lat: 10.3712, lon: 106.6021, clusters: 3 },
      { id: 'dt-thanh-lac-dong', name: 'Ấp Thạnh Lạc Đông', lat: 10.3655, lon: 106.6107, clusters: 3 },
      { id: 'dt-thanh-phu', name: 'Ấp Thạnh Phú', lat: 10.3598, lon: 106.5954, clusters: 3 },
      { id: 'dt-thanh-quoi', name: 'Ấp Thạnh Quới', lat: 10.3541, lon: 106.6063, clusters: 3 },
      { id: 'dt-thanh-tri', name: 'Ấp Thạnh Trị', lat: 10.3487, lon: 106.5988, clusters: 3 },
      { id: 'dt-thanh-loi', name: 'Ấp Thạnh Lợi', lat: 10.3626, lon: 106.6182, clusters: 3 },
    ],
  },
  {
    id: 'binh-phu',
    name: 'Bình Phú',
    prefix: 'bp',
    hamlets: [
      { id: 'bp-binh-cach', name: 'Ấp Bình Cách', lat: 10.3903, lon: 106.5512, clusters: 4 },
      { id: 'bp-binh-tri', name: 'Ấp Bình Trị', lat: 10.3848, lon: 106.5601, clusters: 4 },
      { id: 'bp-binh-phu', name: 'Ấp Bình Phú', lat: 10.3789, lon: 106.5478, clusters: 4 },
      { id: 'bp-binh-hoa-long', name: 'Ấp Bình Hòa Long', lat: 10.3731, lon: 106.5566, clusters: 4 },
    ],
  },
];

export const DEMO_OUTPUT_LABELS = ['Loa hướng Bắc', 'Loa hướng Nam', 'Loa hướng Đông', 'Loa hướng Tây'];
