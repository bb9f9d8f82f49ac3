/** Fixed vocabulary the demo generator draws from: car models, cities, stores, people. */

export interface CarModel {
  name: string;
  /** Budget band the model sits in, matching the profile's `budget`. */
  budget: string;
  trims: readonly string[];
}

export const CAR_MODELS: readonly CarModel[] = [
  { name: '小米SU7', budget: '20-30万', trims: ['标准版', 'Pro', 'Max'] },
  { name: '比亚迪汉EV', budget: '20-30万', trims: ['荣耀版', '冠军版', '四驱版'] },
  { name: 'Model Y', budget: '25-35万', trims: ['后驱版', '长续航版', '高性能版'] },
  { name: '理想L6', budget: '25-35万', trims: ['Pro', 'Max'] },
  { name: '问界M7', budget: '25-35万', trims: ['Pro', 'Max', 'Ultra'] },
  { name: '小鹏G6', budget: '20-30万', trims: ['580 长续航 Pro', '700 超长续航 Max'] },
  { name: '极氪001', budget: '25-35万', trims: ['WE 版', 'ME 版', 'YOU 版'] },
  { name: '蔚来ET5', budget: '30-40万', trims: ['75kWh', '100kWh'] },
];

export const PAGES = { home: '首页', finance: '金融方案页', store: '门店页' } as const;

export const CITIES: readonly { city: string; districts: readonly string[] }[] = [
  { city: '上海', districts: ['徐汇', '浦东', '闵行'] },
  { city: '北京', districts: ['朝阳', '海淀', '亦庄'] },
  { city: '深圳', districts: ['南山', '福田'] },
  { city: '杭州', districts: ['西湖', '滨江'] },
  { city: '广州', districts: ['天河', '番禺'] },
  { city: '成都', districts: ['高新', '锦江'] },
  { city: '南京', districts: ['建邺', '江宁'] },
  { city: '武汉', districts: ['光谷', '江汉'] },
];

export const SURNAMES = [
  '张',
  '王',
  '李',
  '赵',
  '刘',
  '陈',
  '杨',
  '黄',
  '周',
  '吴',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
];
export const AGE_BANDS = ['18-24', '25-34', '25-34', '35-44', '35-44', '45-54'];
export const SOURCES = ['抖音广告', '朋友推荐', '汽车之家', '懂车帝', '官网', '门店自然到访', '小红书'];
export const ONLINE_CHANNELS = ['app', 'app', 'web', 'wechat'] as const;

/** What a buyer looks at while researching a model; used for `detail`. */
export const INTERESTS = [
  '关注续航',
  '关注智能驾驶',
  '关注空间',
  '关注充电速度',
  '关注内饰',
  '关注保值率',
  '关注安全配置',
];
export const FINANCE_DETAILS = ['首付 20%，分 36 期', '咨询 0 息方案', '咨询置换补贴', '首付 30%，分 24 期'];
export const TEST_DRIVE_DETAILS = [
  '试驾 20 分钟，城市道路',
  '试驾 30 分钟，含高速段',
  '体验自动泊车',
  '试驾后排乘坐体验',
];
export const VIEW_DETAILS = ['看了内饰和后备箱', '对比了两种颜色', '销售讲解智能座舱', '看了展车底盘'];
