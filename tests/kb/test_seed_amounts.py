"""Every amount, age limit, time limit and percentage of the five seed documents, checked
against the knowledge base.

The expected numbers below were read off the seed texts (policy_kb/sources/*.txt), not copied
from the YAML. Each row names the sentence it comes from; the test first checks that the
sentence really is in the seed text (so a typo in this table cannot pass silently), then that
the parameter in force in that region on that date has that value and unit.

A number that has no parameter in the knowledge base is written anyway and marked
`xfail(strict=True, reason="not in KB: ...")`.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pytest

from policy_kb.loader import squeeze

M = "000_7c66807453e9ec61.txt"  # 防止返贫监测对象帮扶政策“明白纸”
B = "001_014f2aa6107fdb2b.txt"  # 博罗县“十四五”时期脱贫人口监测对象分类帮扶工作方案
T = "002_c66573f90f775aed.txt"  # 乡镇(街道)建立健全防止返贫动态监测和帮扶机制的实施方案
Y = "003_61ad2460d5de3e0d.txt"  # 岳阳县社会救助兜底保障对象救助帮扶长效机制实施办法
H = "004_adf049957f0c8a20.txt"  # 鹤庆县防止返贫致贫预警监测和动态帮扶工作实施办法

D = dt.date
SPRING_2024 = D(2024, 3, 1)  # “2024年春季起”
BASE_DAY = D(2024, 6, 1)

# Units that say the same thing in Chinese; the KB may use either.
UNIT_ALIASES = {"岁": "周岁"}


class Row(NamedTuple):
    file: str
    section: str
    quote: str  # the seed sentence (whitespace is ignored when looking it up)
    parameter: str
    region: str
    date: dt.date
    value: float
    unit: str
    kind: str | None = None  # "cap" for 不超过/最高, "floor" for 不少于/以上; None: not checked
    cites_other_doc: bool = False  # the KB's reference for this value may cite another seed


ROWS: list[Row] = [
    # ---------------------------------------------------------------- 明白纸 1 产业帮扶
    Row(M, "1 产业帮扶", "对象家中有一名年龄在16周岁以上、能够正常从事农业劳动生产、且一年在家时长超过6个月的对象",
        "industry.min_age", "base", BASE_DAY, 16, "周岁"),
    Row(M, "1 产业帮扶", "对象家中有一名年龄在16周岁以上、能够正常从事农业劳动生产、且一年在家时长超过6个月的对象",
        "industry.min_months_home", "base", BASE_DAY, 6, "个月"),
    Row(M, "1 产业帮扶", "贷款的额度是1-10万元，其中贴息不超过5万", "industry.loan.min", "base", BASE_DAY, 10000, "元"),
    Row(M, "1 产业帮扶", "贷款的额度是1-10万元，其中贴息不超过5万", "industry.loan.max", "base", BASE_DAY, 100000, "元"),
    Row(M, "1 产业帮扶", "贷款的额度是1-10万元，其中贴息不超过5万", "industry.loan.subsidized_max", "base", BASE_DAY, 50000, "元", "cap"),
    # ---------------------------------------------------------------- 明白纸 2 就业帮扶
    Row(M, "2 就业帮扶", "★从2021年起，有外出务工的，结对帮扶人须帮助其申请“一次性交通补贴”，其中省外的补贴不超过400元",
        "employment.transport.out_of_province", "base", D(2021, 1, 1), 400, "元", "cap"),
    Row(M, "2 就业帮扶", "★从2021年起，有外出务工的，结对帮扶人须帮助其申请“一次性交通补贴”，其中省外的补贴不超过400元，县外省内不超过200元",
        "employment.transport.in_province", "base", D(2021, 1, 1), 200, "元", "cap"),
    Row(M, "2 就业帮扶", "★从2021年起，有外出务工的，结对帮扶人须帮助其申请“一次性交通补贴”，其中省外的补贴不超过400元，县外省内不超过200元，市内县外不超过100元。",
        "employment.transport.in_city", "base", D(2021, 1, 1), 100, "元", "cap"),
    Row(M, "2 就业帮扶", "在一年内免费提供3次务工信息，1次职业培训信息和1次职业指导。",
        "employment.unemployed.job_info", "base", BASE_DAY, 3, "次"),
    Row(M, "2 就业帮扶", "在一年内免费提供3次务工信息，1次职业培训信息和1次职业指导。",
        "employment.unemployed.training_info", "base", BASE_DAY, 1, "次"),
    Row(M, "2 就业帮扶", "在一年内免费提供3次务工信息，1次职业培训信息和1次职业指导。",
        "employment.unemployed.guidance", "base", BASE_DAY, 1, "次"),
    # ---------------------------------------------------------------- 明白纸 5 教育帮扶
    Row(M, "5 教育帮扶", "★帮扶对象家庭中有6-16周岁的适龄儿童没有上学的", "edu.school_age.min", "base", BASE_DAY, 6, "周岁"),
    Row(M, "5 教育帮扶", "★帮扶对象家庭中有6-16周岁的适龄儿童没有上学的", "edu.school_age.max", "base", BASE_DAY, 16, "周岁"),
    Row(M, "5 教育帮扶", "因病、因残无法正常入学的，督促学校每个月送教上门两次。", "edu.home_teaching.visits", "base", BASE_DAY, 2, "次"),
    Row(M, "5 教育帮扶", "2024年春季起幼儿园500元/生/期", "edu.grant.kindergarten", "base", SPRING_2024, 500, "元/生/期"),
    Row(M, "5 教育帮扶", "小学非寄宿学生312.5元/生/学期", "edu.grant.primary_day", "base", SPRING_2024, 312.5, "元/生/学期"),
    Row(M, "5 教育帮扶", "小学寄宿学生625元/生/学期", "edu.grant.primary_boarding", "base", SPRING_2024, 625, "元/生/学期"),
    Row(M, "5 教育帮扶", "初中非寄宿学生375元/生/学期", "edu.grant.junior_day", "base", SPRING_2024, 375, "元/生/学期"),
    Row(M, "5 教育帮扶", "初中寄宿学生750元/生/学期", "edu.grant.junior_boarding", "base", SPRING_2024, 750, "元/生/学期"),
    Row(M, "5 教育帮扶", "高中生在校期间助学金1500元/生/期", "edu.grant.senior", "base", SPRING_2024, 1500, "元/生/期"),
    Row(M, "5 教育帮扶", "全日制中职学生1000元/生/期（三年制中专前两年享受，第三年不享受）",
        "edu.grant.secondary_vocational", "base", SPRING_2024, 1000, "元/生/期"),
    Row(M, "5 教育帮扶", "三年制中专前两年享受，第三年不享受", "edu.secondary_vocational.program_years", "base", SPRING_2024, 3, "年制"),
    Row(M, "5 教育帮扶", "三年制中专前两年享受，第三年不享受", "edu.secondary_vocational.max_year", "base", SPRING_2024, 2, "年级"),
    Row(M, "5 教育帮扶", "中高职享受雨露计划补贴1500元/生/期", "edu.grant.yulu", "base", SPRING_2024, 1500, "元/生/期"),
    Row(M, "5 教育帮扶", "★帮扶对象中有残疾学生在读高中的，在其就读期间，帮助其向残联申请资助1400元/人/学年",
        "edu.disabled.senior", "base", SPRING_2024, 1400, "元/人/学年"),
    Row(M, "5 教育帮扶", "资助标准为专科学子4000元/人", "edu.disabled.college", "base", SPRING_2024, 4000, "元/人"),
    Row(M, "5 教育帮扶", "本科学子5000元/人", "edu.disabled.bachelor", "base", SPRING_2024, 5000, "元/人"),
    Row(M, "5 教育帮扶", "硕士及以上层次学生6000元/人", "edu.disabled.postgraduate", "base", SPRING_2024, 6000, "元/人"),
    Row(M, "5 教育帮扶", "★帮扶对象中有学生在读高中（中职）且其父母是残疾的低保残疾人家庭，在其就读期间，帮助其向残联申请资助1000元/人/学年",
        "edu.disabled_parent.senior", "base", SPRING_2024, 1000, "元/人/学年"),
    Row(M, "5 教育帮扶", "学生不论读专科、本科、研究生及以上层次，在其就读期间，帮助其向残联申请一次性资助3000元/人。",
        "edu.disabled_parent.higher", "base", SPRING_2024, 3000, "元/人"),
    # ---------------------------------------------------------------- 明白纸 6 健康帮扶
    Row(M, "6 健康帮扶", "帮扶对象是特困供养、重残、孤儿或事实无人抚养儿童的，协助落实城乡居民医保100%资助参保",
        "health.premium_subsidy.tekun", "base", BASE_DAY, 100, "%"),
    Row(M, "6 健康帮扶", "帮扶对象是特困供养、重残、孤儿或事实无人抚养儿童的，协助落实城乡居民医保100%资助参保",
        "health.premium_subsidy.severe_disability", "base", BASE_DAY, 100, "%"),
    Row(M, "6 健康帮扶", "帮扶对象是特困供养、重残、孤儿或事实无人抚养儿童的，协助落实城乡居民医保100%资助参保",
        "health.premium_subsidy.orphan", "base", BASE_DAY, 100, "%"),
    Row(M, "6 健康帮扶", "帮扶对象是特困供养、重残、孤儿或事实无人抚养儿童的，协助落实城乡居民医保100%资助参保",
        "health.premium_subsidy.unsupported_child", "base", BASE_DAY, 100, "%"),
    Row(M, "6 健康帮扶", "低保、监测对象、最低生活保障边缘家庭成员等三类人员的50%资助参保",
        "health.premium_subsidy.dibao", "base", BASE_DAY, 50, "%"),
    Row(M, "6 健康帮扶", "低保、监测对象、最低生活保障边缘家庭成员等三类人员的50%资助参保",
        "health.premium_subsidy.monitored", "base", BASE_DAY, 50, "%"),
    Row(M, "6 健康帮扶", "低保、监测对象、最低生活保障边缘家庭成员等三类人员的50%资助参保",
        "health.premium_subsidy.dibao_edge", "base", BASE_DAY, 50, "%"),
    Row(M, "6 健康帮扶", "家庭医生签约服务协议有效期可为1-3年", "health.family_doctor.term_min", "base", BASE_DAY, 1, "年"),
    Row(M, "6 健康帮扶", "家庭医生签约服务协议有效期可为1-3年", "health.family_doctor.term_max", "base", BASE_DAY, 3, "年"),
    Row(M, "6 健康帮扶", "每年可享受一次免费健康体检和四次随访服务", "health.chronic.free_checkup", "base", BASE_DAY, 1, "次/年"),
    Row(M, "6 健康帮扶", "每年可享受一次免费健康体检和四次随访服务", "health.chronic.followups", "base", BASE_DAY, 4, "次/年"),
    Row(M, "6 健康帮扶", "在县域外务工或居住达3个月以上不足6个月的", "health.chronic.away_min_months", "base", BASE_DAY, 3, "个月"),
    Row(M, "6 健康帮扶", "在县域外务工或居住达3个月以上不足6个月的", "health.chronic.away_max_months", "base", BASE_DAY, 6, "个月"),
    Row(M, "6 健康帮扶", "外出务工期间有不少于1次的电话、微信等沟通了解，并有记录。",
        "health.chronic.contacts_away", "base", BASE_DAY, 1, "次", "floor"),
    Row(M, "6 健康帮扶", "县域外务工不足3个月的，全年服务次数不少于4次。", "health.chronic.away_min_months", "base", BASE_DAY, 3, "个月"),
    Row(M, "6 健康帮扶", "县域外务工不足3个月的，全年服务次数不少于4次。",
        "health.chronic.services_away_short", "base", BASE_DAY, 4, "次/年", "floor"),
    Row(M, "6 健康帮扶", "一级及以下医疗机构卫生材料超限价部分自负费用和全自费费用之和占医疗总费用比例不超过10%",
        "health.selfpay.level1", "base", BASE_DAY, 10, "%", "cap"),
    Row(M, "6 健康帮扶", "二级医疗机构卫生材料超限价部分自负费用和全自费费用之和占医疗总费用比例不超过15%",
        "health.selfpay.level2", "base", BASE_DAY, 15, "%", "cap"),
    Row(M, "6 健康帮扶", "三级医疗机构卫生材料超限价部分自负费用和全自费费用之和占医疗总费用比例不超过20%",
        "health.selfpay.level3", "base", BASE_DAY, 20, "%", "cap"),
    Row(M, "6 健康帮扶", "（其中基本医保目录外医疗费用比例严格控制在10%以内）", "health.selfpay.out_of_catalog", "base", BASE_DAY, 10, "%", "cap"),
    Row(M, "6 健康帮扶", "★特困人员、低保对象、返贫致贫人口大病保险起付线降低50%，报销比例提高5个百分点，取消大病保险封顶线。",
        "health.critical_insurance.deductible_cut", "base", BASE_DAY, 50, "%"),
    Row(M, "6 健康帮扶", "★特困人员、低保对象、返贫致贫人口大病保险起付线降低50%，报销比例提高5个百分点，取消大病保险封顶线。",
        "health.critical_insurance.reimb_raise", "base", BASE_DAY, 5, "个百分点"),
    Row(M, "6 健康帮扶", "政策范围内个人负担医疗费用超过当地上年度居民人均可支配收入的25%",
        "health.reassist.threshold_share", "base", BASE_DAY, 25, "%"),
    Row(M, "6 健康帮扶", "按照50%的比例进行再救助，年度最高救助限额10万元。", "health.reassist.rate", "base", BASE_DAY, 50, "%"),
    Row(M, "6 健康帮扶", "按照50%的比例进行再救助，年度最高救助限额10万元。", "health.reassist.cap", "base", BASE_DAY, 100000, "元", "cap"),
    Row(M, "6 健康帮扶", "政策范围内年度个人累计自付医疗费用仍高于1万元的医疗救助对象，纳入重大疾病医疗救助范围。",
        "health.major_illness.oop_threshold", "base", BASE_DAY, 10000, "元"),
    # ---------------------------------------------------------------- 明白纸 7 综合保障 / 9 搬迁
    Row(M, "7 综合保障", "★帮扶对象中有年满60周岁，符合纳入特困供养的，帮助申请纳入特困。", "social.tekun.min_age", "base", BASE_DAY, 60, "周岁"),
    Row(M, "9 易地扶贫搬迁后扶", "确保有就业意愿和劳动能力的家庭中至少有一人就业。", "relocation.min_employed", "base", BASE_DAY, 1, "人"),
    # ---------------------------------------------------------------- 乡镇(街道)实施方案
    Row(T, "二、(一)监测范围", "以脱贫攻坚期国家扶贫标准的1.5倍为底线", "monitoring.poverty_line_multiple", "base", D(2021, 6, 1), 1.5, "倍"),
    Row(T, "二、(一)监测范围", "2021年我街道监测范围以家庭年人均纯收入6500元为基准线",
        "monitoring.income_threshold", "base", D(2021, 6, 1), 6500, "元/人/年"),
    Row(T, "3.健康帮扶", "大病保险对属于特困人员、低保对象和返贫致贫人口的监测对象实施起付线降低50%、报销比例提高5个百分点、取消封顶线的倾斜保障政策。",
        "health.critical_insurance.deductible_cut", "base", BASE_DAY, 50, "%", None, True),
    Row(T, "3.健康帮扶", "大病保险对属于特困人员、低保对象和返贫致贫人口的监测对象实施起付线降低50%、报销比例提高5个百分点、取消封顶线的倾斜保障政策。",
        "health.critical_insurance.reimb_raise", "base", BASE_DAY, 5, "个百分点", None, True),
    Row(T, "3.健康帮扶", "对经基本医保、大病保险和医疗救助支付后政策范围内个人自付医疗费用超过上年居民人均可支配收入的25%的监测对象",
        "health.reassist.threshold_share", "base", BASE_DAY, 25, "%", None, True),
    # ---------------------------------------------------------------- 博罗县
    Row(B, "四、工作任务 3", "落实全额资助本县户籍脱贫人口监测对象参加养老保险（需年满 16 周岁且不满 60 周岁，不含在校生、现役军人等）",
        "boluo.pension.min_age", "boluo", BASE_DAY, 16, "周岁"),
    Row(B, "四、工作任务 3", "落实全额资助本县户籍脱贫人口监测对象参加养老保险（需年满 16 周岁且不满 60 周岁，不含在校生、现役军人等）",
        "boluo.pension.max_age_exclusive", "boluo", BASE_DAY, 60, "周岁"),
    Row(B, "四、工作任务 3", "落实全额资助本县户籍脱贫人口监测对象参加养老保险", "boluo.pension.subsidy_rate", "boluo", BASE_DAY, 100, "%"),
    Row(B, "四、工作任务 4", "（1）落实全额资助监测对象参加城乡居民基本医疗保险政策，实现应保尽保",
        "health.premium_subsidy.monitored", "boluo", BASE_DAY, 100, "%"),
    Row(B, "四、工作任务 4", "对个人自付费用超过 1 万元的脱贫人口实行额外救助", "boluo.extra_medical.oop_threshold", "boluo", BASE_DAY, 10000, "元"),
    Row(B, "四、工作任务 8", "申请人年龄原则上在18周岁—65周岁之间（其中年龄与贷款期限之和不超过65周岁）",
        "boluo.microcredit.min_age", "boluo", BASE_DAY, 18, "周岁"),
    Row(B, "四、工作任务 8", "申请人年龄原则上在18周岁—65周岁之间（其中年龄与贷款期限之和不超过65周岁）",
        "boluo.microcredit.max_age", "boluo", BASE_DAY, 65, "周岁"),
    Row(B, "四、工作任务 8", "纳入脱贫人口小额信贷全额贴息政策支持", "boluo.microcredit.interest_subsidy_rate", "boluo", BASE_DAY, 100, "%"),
    # ---------------------------------------------------------------- 岳阳县
    Row(Y, "三、(二) 6 加强就业帮扶", "每年至少为登记失业的兜底保障对象家庭劳动力推荐3次岗位信息、提供 1 次职业指导、提供 1 次免费技能培训信息",
        "yueyang.job311.job_leads", "yueyang", D(2024, 1, 1), 3, "次/年"),
    Row(Y, "三、(二) 6 加强就业帮扶", "每年至少为登记失业的兜底保障对象家庭劳动力推荐3次岗位信息、提供 1 次职业指导、提供 1 次免费技能培训信息",
        "yueyang.job311.guidance", "yueyang", D(2024, 1, 1), 1, "次/年"),
    Row(Y, "三、(二) 6 加强就业帮扶", "每年至少为登记失业的兜底保障对象家庭劳动力推荐3次岗位信息、提供 1 次职业指导、提供 1 次免费技能培训信息",
        "yueyang.job311.training", "yueyang", D(2024, 1, 1), 1, "次/年"),
    Row(Y, "三、(二) 5 加强产业帮扶", "力争有产业发展能力和意愿的贫困户有1个以上产业增收项目",
        "yueyang.industry.min_projects", "yueyang", D(2024, 1, 1), 1, "个", "floor"),
    Row(Y, "三、(二) 5 加强产业帮扶", "有培训意愿的贫困户掌握1门以上就业创业技能", "yueyang.skills.min_skills", "yueyang", D(2024, 1, 1), 1, "门", "floor"),
    Row(Y, "三、(二) 7 加大残疾人帮扶力度", "每年至少组织一次疑似残疾人摸底以及上门评残和办证",
        "yueyang.disability_survey.per_year", "yueyang", D(2024, 1, 1), 1, "次/年", "floor"),
    # ---------------------------------------------------------------- 鹤庆县
    Row(H, "二、(一)申报排查阶段", "将人均可支配收入低于国家扶贫标准1.5倍左右的家庭",
        "heqing.poverty_line_multiple", "heqing", D(2024, 1, 1), 1.5, "倍"),
    Row(H, "二、(三)乡镇审核阶段", "应在7个工作日内组成核查工作组", "heqing.township_audit_working_days", "heqing", D(2024, 1, 1), 7, "个工作日"),
    Row(H, "二、(三)乡镇审核阶段", "于每月5日前上报县扶贫开发领导小组", "heqing.report_day_of_month", "heqing", D(2024, 1, 1), 5, "日"),
    Row(H, "二、警情处理阶段", "于每月5日前报送县扶贫办", "heqing.lift_report_day_of_month", "heqing", D(2024, 1, 1), 5, "日"),
    Row(H, "二、(五)精准帮扶阶段 2 就业扶持", "对有劳动能力和就业意愿的返贫致贫风险的农户,100%推荐就业岗位",
        "heqing.job_recommend_share", "heqing", D(2024, 1, 1), 100, "%"),
]

# Numbers of the seeds that have no parameter in the knowledge base (written, expected to fail).
MISSING: list[tuple[Row, str]] = []

SOURCE_IDS = {M: "mingbaizhi", B: "boluo_2022", T: "township_2021", Y: "yueyang_2020", H: "heqing_2020"}


def _row_id(row: Row) -> str:
    return f"{SOURCE_IDS[row.file]}-{row.parameter}-{row.region}-{row.date.isoformat()}"


def _params():
    seen: dict[str, int] = {}
    out = []
    for row in ROWS:
        ident = _row_id(row)
        seen[ident] = seen.get(ident, 0) + 1
        if seen[ident] > 1:
            ident = f"{ident}-{seen[ident]}"
        out.append(pytest.param(row, id=ident))
    for row, reason in MISSING:
        out.append(pytest.param(row, id=_row_id(row), marks=pytest.mark.xfail(strict=True, reason=f"not in KB: {reason}")))
    return out


def _unit(unit: str) -> str:
    return UNIT_ALIASES.get(unit, unit)


@pytest.mark.parametrize("row", _params())
def test_seed_number(row: Row, kb, source_texts):
    where = f"{row.file} {row.section}：「{row.quote}」"
    assert squeeze(row.quote) in source_texts[row.file], f"the quoted sentence is not in the seed text: {where}"
    view = kb.view(row.region)
    assert row.parameter in view.parameters, f"no parameter {row.parameter!r} in region {row.region} for {where}"
    parameter = view.parameters[row.parameter]
    found = parameter.at(row.date)
    assert found is not None and found.value is not None, (
        f"{row.parameter} has no value in {row.region} on {row.date} (seed: {where})")
    assert found.value == pytest.approx(row.value), (
        f"{row.parameter} in {row.region} on {row.date} is {found.value:g}, the seed says {row.value:g}{row.unit}: {where}")
    assert _unit(parameter.unit) == _unit(row.unit), (
        f"{row.parameter}: unit {parameter.unit!r}, the seed says {row.unit!r}: {where}")
    if row.kind is not None:
        assert parameter.kind == row.kind, f"{row.parameter}: kind {parameter.kind!r}, the seed wording means {row.kind!r}: {where}"
    if not row.cites_other_doc:
        assert found.ref is not None and kb.sources[found.ref.source].file == row.file, (
            f"{row.parameter} should cite {row.file}, cites {found.ref and kb.sources[found.ref.source].file}")


# ---------------------------------------------------------------- dates on which numbers start
EDU_GRANTS_2024 = ["edu.grant.kindergarten", "edu.grant.primary_day", "edu.grant.primary_boarding", "edu.grant.junior_day",
                   "edu.grant.junior_boarding", "edu.grant.senior", "edu.grant.secondary_vocational", "edu.grant.yulu"]


@pytest.mark.parametrize("pid", EDU_GRANTS_2024)
def test_education_grants_start_spring_2024(pid, kb, source_texts):
    """“2024年春季起”: the amounts are not in force before 2024 (the KB has no earlier values)."""
    assert squeeze("2024年春季起幼儿园500元/生/期") in source_texts[M]
    parameter = kb.view("base").parameters[pid]
    assert parameter.value_at(D(2023, 9, 1)) is None, f"{pid} has a value in autumn 2023, before “2024年春季起”"
    assert parameter.value_at(D(2024, 1, 1)) is not None, f"{pid} has no value from 2024-01-01 (“2024年春季起”)"


@pytest.mark.parametrize("pid", ["employment.transport.out_of_province", "employment.transport.in_province", "employment.transport.in_city"])
def test_transport_caps_start_2021(pid, kb, source_texts):
    """“★从2021年起……一次性交通补贴”: no cap before 2021."""
    assert squeeze("★从2021年起，有外出务工的") in source_texts[M]
    parameter = kb.view("base").parameters[pid]
    assert parameter.value_at(D(2020, 12, 31)) is None
    assert parameter.value_at(D(2021, 1, 1)) is not None


def test_transport_measure_starts_2021(kb):
    assert kb.view("base").measure("employment.transport_subsidy").valid_from == D(2021, 1, 1)


def test_boluo_monitored_premium_is_base_elsewhere(kb):
    """博罗's 100% (全额资助监测对象) overrides 明白纸's 50% only in 博罗."""
    assert kb.view("boluo").parameters["health.premium_subsidy.monitored"].value_at(BASE_DAY) == 100
    for region in ("base", "yueyang", "heqing"):
        assert kb.view(region).parameters["health.premium_subsidy.monitored"].value_at(BASE_DAY) == 50, region


# ---------------------------------------------------------------- validity periods of the documents
def test_yueyang_valid_five_years(kb, source_texts):
    """“本通知自 2020 年 3 月 15 日起执行，有效期 5 年。”: five years from 15 March 2020 are the days up to
    and including 14 March 2025; on the 15th it has expired."""
    assert squeeze("本通知自 2020 年 3 月 15 日起执行，有效期 5 年。") in source_texts[Y]
    source = kb.sources["yueyang_2020"]
    assert source.file == Y
    assert source.valid_from == D(2020, 3, 15)
    assert source.valid_to == D(2025, 3, 14)
    assert not source.expired_on(D(2025, 3, 14))
    assert source.expired_on(D(2025, 3, 15))


def test_boluo_consolidation_period_2021_2025(kb, source_texts):
    """“在巩固期间（2021 年—2025 年）每年 12 月中旬核算……对个人自付费用超过 1 万元的脱贫人口实行额外救助”"""
    assert squeeze("在巩固期间（2021 年—2025 年）每年 12 月中旬核算脱贫人口就医数据") in source_texts[B]
    measure = kb.view("boluo").measure("boluo.extra_medical_aid")
    assert measure is not None
    assert measure.valid_from == D(2021, 1, 1)
    assert measure.valid_to == D(2025, 12, 31)


def test_every_seed_file_is_a_source(kb):
    assert {s.file for s in kb.sources.values()} == set(SOURCE_IDS)
