{#-
    One row per pupil (person_key) and academic year: the groups of DfE's "Outcomes for children
    in need, including children looked after" the pupil is in that year, the key stage, and
    the year's attendance, exclusions and attainment. The group rules are the macros in
    macros/outcome_groups.sql; the outcome marts read the flags, never the rules.

    A pupil-year is a child with a School Census record on a census day in the academic year,
    attendance reported for a term of it, an exclusion begun in it, or an attainment result of
    it. School characteristics (SEN provision, FSM, national curriculum year) come from the
    spring (January) census of the year, as DfE takes them, or from the pupil's latest census
    of the year if not on roll in January; a pupil on two rolls that day has the highest
    provision and is FSM eligible if either school says so.
-#}
with

enrolments as (
    select * from {{ ref('fct_school_enrolments') }}
),

attendance as (
    select * from {{ ref('fct_attendance') }}
),

exclusions as (
    select * from {{ ref('fct_exclusions') }}
),

attainment as (
    select * from {{ ref('fct_attainment') }}
),

cin_episodes as (
    select * from {{ ref('fct_cin_episodes') }}
),

cp_plans as (
    select * from {{ ref('fct_cp_plans') }}
),

periods_of_care as (
    select * from {{ ref('fct_periods_of_care') }}
),

care_episodes as (
    select * from {{ ref('fct_looked_after_episodes') }}
),

ehc_plans as (
    select * from {{ ref('fct_ehc_plans') }}
),

censuses_by_child as (
    select
        person_key,
        census_period,
        census_date,
        {{ academic_year_of('census_date') }} as academic_year,
        bool_or(is_fsm_eligible) as is_fsm_eligible,
        {{ arg_max(
            'sen_provision', "case sen_provision when 'E' then 3 when 'K' then 2 else 1 end"
        ) }} as sen_provision,
        max(national_curriculum_year) as national_curriculum_year
    from enrolments
    group by person_key, census_period, census_date
),

school_years as (
    select
        person_key,
        academic_year,
        bool_or(census_period like '%-spring') as is_on_roll_in_january
    from censuses_by_child
    group by person_key, academic_year
),

census_characteristics as (
    {{ deduplicate('censuses_by_child', 'person_key, academic_year',
        "census_period like '%-spring' desc, census_date desc") }}
),

attendance_years as (
    -- DfE leaves pupils with no possible sessions out of absence.
    select
        person_key,
        academic_year,
        sum(sessions_possible) as sessions_possible,
        sum(sessions_overall_absence) as sessions_overall_absence
    from attendance
    where sessions_possible > 0
    group by person_key, academic_year
),

exclusion_years as (
    select
        person_key,
        academic_year,
        count(*) filter (where is_suspension) as suspensions,
        count(*) filter (where is_permanent_exclusion) as permanent_exclusions
    from exclusions
    group by person_key, academic_year
),

attainment_years as (
    -- A result counts where the pupil is in the measure's denominator.
    select
        person_key,
        academic_year,
        any_value(met) filter (where measure = 'good_level_of_development' and is_counted)
            as good_level_of_development,
        any_value(met) filter (where measure = 'met_phonics_standard' and is_counted)
            as met_phonics_standard,
        any_value(met) filter (where measure = 'expected_standard_rwm' and is_counted)
            as met_expected_standard_rwm,
        any_value(score) filter (where measure = 'attainment_8' and is_counted) as attainment_8,
        any_value(met) filter (where measure = 'english_maths_grade_4_or_above' and is_counted)
            as english_maths_grade_4_or_above,
        any_value(met) filter (where measure = 'english_maths_grade_5_or_above' and is_counted)
            as english_maths_grade_5_or_above
    from attainment
    group by person_key, academic_year
),

pupil_years as (
    select
        person_key,
        academic_year
    from school_years
    union
    select
        person_key,
        academic_year
    from attendance
    union
    select
        person_key,
        academic_year
    from exclusion_years
    union
    select
        person_key,
        academic_year
    from attainment_years
),

cin_groups as (
    -- A referral with no further action is a referral, not a child in need.
    select
        pupil_years.person_key,
        pupil_years.academic_year,
        bool_or(
            {{ was_open_in_year(
                'cin_episodes.referral_date', 'cin_episodes.closure_date',
                'pupil_years.academic_year') }}
        ) as is_cin,
        bool_or(
            {{ was_open_in_last_6_years(
                'cin_episodes.referral_date', 'cin_episodes.closure_date',
                'pupil_years.academic_year') }}
        ) as is_cin_in_last_6_years
    from pupil_years
    inner join cin_episodes on pupil_years.person_key = cin_episodes.person_key
    where not cin_episodes.is_referral_nfa
    group by pupil_years.person_key, pupil_years.academic_year
),

cp_groups as (
    select
        pupil_years.person_key,
        pupil_years.academic_year,
        bool_or(
            {{ was_open_in_year(
                'cp_plans.plan_start_date', 'cp_plans.plan_end_date',
                'pupil_years.academic_year') }}
        ) as is_cp_plan
    from pupil_years
    inner join cp_plans on pupil_years.person_key = cp_plans.person_key
    group by pupil_years.person_key, pupil_years.academic_year
),

short_breaks as (
    -- Children on an agreed series of short-term breaks at any point in the year.
    select distinct
        pupil_years.person_key,
        pupil_years.academic_year
    from pupil_years
    inner join care_episodes on pupil_years.person_key = care_episodes.person_key
    where
        care_episodes.legal_status in {{ short_break_legal_statuses() }}
        and {{ was_open_in_year(
            'care_episodes.episode_start_date', 'care_episodes.episode_end_date',
            'pupil_years.academic_year') }}
),

care_groups as (
    select
        pupil_years.person_key,
        pupil_years.academic_year,
        bool_or(
            {{ is_looked_after_12_months(
                'periods_of_care.period_start_date', 'periods_of_care.period_end_date',
                'pupil_years.academic_year') }}
        ) as is_looked_after_12_months
    from pupil_years
    inner join periods_of_care on pupil_years.person_key = periods_of_care.person_key
    group by pupil_years.person_key, pupil_years.academic_year
),

ehc_groups as (
    -- A plan active on the SEN2 census day of the year (January: return 2025 for 2024-25), or
    -- open at some point in the academic year by its dates. A return knows a plan it does not
    -- record as ceased to be open to the end of the academic year of its census day; a later
    -- return says whether it went on.
    select
        pupil_years.person_key,
        pupil_years.academic_year,
        bool_or(
            (
                ehc_plans.is_active_on_census_day
                and cast(ehc_plans.census_period as integer) - 1
                = {{ academic_year_start_year('pupil_years.academic_year') }}
            )
            or {{ was_open_in_academic_year(
                'ehc_plans.plan_start_date',
                'coalesce(ehc_plans.plan_cease_date, '
                ~ 'make_date(cast(ehc_plans.census_period as integer), 7, 31))',
                'pupil_years.academic_year') }}
        ) as has_open_ehc_plan
    from pupil_years
    inner join ehc_plans on pupil_years.person_key = ehc_plans.person_key
    group by pupil_years.person_key, pupil_years.academic_year
),

final as (
    select
        pupil_years.person_key,
        pupil_years.academic_year,
        true as is_pupil,
        coalesce(cin_groups.is_cin, false) as is_cin,
        coalesce(cp_groups.is_cp_plan, false) as is_cp_plan,
        coalesce(care_groups.is_looked_after_12_months and short_breaks.person_key is null, false)
            as is_looked_after_12_months,
        coalesce(cin_groups.is_cin_in_last_6_years, false) as is_cin_in_last_6_years,
        coalesce(
            census_characteristics.sen_provision = 'K'
            and not coalesce(ehc_groups.has_open_ehc_plan, false),
            false
        ) as has_sen_support,
        coalesce(
            census_characteristics.sen_provision = 'E' or ehc_groups.has_open_ehc_plan, false
        ) as has_ehc_plan,
        coalesce(census_characteristics.is_fsm_eligible, false) as is_fsm_eligible,
        census_characteristics.census_period as characteristics_census_period,
        census_characteristics.national_curriculum_year,
        {{ code_label('nc_year', 'census_characteristics.national_curriculum_year') }}
            as national_curriculum_year_label,
        {{ key_stage('census_characteristics.national_curriculum_year') }} as key_stage,
        census_characteristics.sen_provision,
        {{ code_label('sen_provision', 'census_characteristics.sen_provision') }}
            as sen_provision_label,
        coalesce(school_years.is_on_roll_in_january, false) as is_on_roll_in_january,
        cast(coalesce(attendance_years.sessions_possible, 0) as integer) as sessions_possible,
        cast(coalesce(attendance_years.sessions_overall_absence, 0) as integer)
            as sessions_overall_absence,
        {{ absence_rate('attendance_years.sessions_overall_absence',
            'attendance_years.sessions_possible') }} as overall_absence_rate,
        {{ is_persistently_absent('attendance_years.sessions_overall_absence',
            'attendance_years.sessions_possible') }} as is_persistently_absent,
        {{ is_severely_absent('attendance_years.sessions_overall_absence',
            'attendance_years.sessions_possible') }} as is_severely_absent,
        cast(coalesce(exclusion_years.suspensions, 0) as integer) as suspensions,
        cast(coalesce(exclusion_years.permanent_exclusions, 0) as integer)
            as permanent_exclusions,
        attainment_years.good_level_of_development,
        attainment_years.met_phonics_standard,
        attainment_years.met_expected_standard_rwm,
        cast(attainment_years.attainment_8 as double) as attainment_8,
        attainment_years.english_maths_grade_4_or_above,
        attainment_years.english_maths_grade_5_or_above
    from pupil_years
    left join school_years
        on
            pupil_years.person_key = school_years.person_key
            and pupil_years.academic_year = school_years.academic_year
    left join census_characteristics
        on
            pupil_years.person_key = census_characteristics.person_key
            and pupil_years.academic_year = census_characteristics.academic_year
    left join attendance_years
        on
            pupil_years.person_key = attendance_years.person_key
            and pupil_years.academic_year = attendance_years.academic_year
    left join exclusion_years
        on
            pupil_years.person_key = exclusion_years.person_key
            and pupil_years.academic_year = exclusion_years.academic_year
    left join attainment_years
        on
            pupil_years.person_key = attainment_years.person_key
            and pupil_years.academic_year = attainment_years.academic_year
    left join cin_groups
        on
            pupil_years.person_key = cin_groups.person_key
            and pupil_years.academic_year = cin_groups.academic_year
    left join cp_groups
        on
            pupil_years.person_key = cp_groups.person_key
            and pupil_years.academic_year = cp_groups.academic_year
    left join care_groups
        on
            pupil_years.person_key = care_groups.person_key
            and pupil_years.academic_year = care_groups.academic_year
    left join short_breaks
        on
            pupil_years.person_key = short_breaks.person_key
            and pupil_years.academic_year = short_breaks.academic_year
    left join ehc_groups
        on
            pupil_years.person_key = ehc_groups.person_key
            and pupil_years.academic_year = ehc_groups.academic_year
)

select * from final
