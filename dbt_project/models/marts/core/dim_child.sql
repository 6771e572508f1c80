{#-
    One row per child (person_key): the golden record and the child's status as at the as-at
    date (as_at_date). Pseudonymous: no names, identifiers, full date of birth or postcode.
    Survivorship rules are in macros/survivorship.sql and the model's description.
-#}
{%- set valid_postcode = "case when " ~ is_valid_postcode('postcode') ~ " then postcode end" -%}
{%- set known_sex = "sex in ('M', 'F')" -%}
{%- set known_ethnicity = "ethnicity_code not in ('NOBT', 'REFU')" -%}
with

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

as_at as (
    select * from {{ ref('as_at_date') }}
),

school_enrolments as (
    select * from {{ ref('fct_school_enrolments') }}
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

ehc_plans as (
    select * from {{ ref('fct_ehc_plans') }}
),

health_events as (
    select * from {{ ref('fct_health_events') }}
),

pupil_outcomes as (
    select * from {{ ref('fct_pupil_outcomes') }}
),

care_leavers as (
    select * from {{ ref('stg_looked_after__oc3') }}
),

deaths as (
    select * from {{ ref('stg_deaths__deaths') }}
),

-- Ethnicity is not part of the person-record shape: read it from the sources that record it.
pupils as (
    select * from {{ ref('stg_school_census__pupils') }}
),

cin_children as (
    select * from {{ ref('stg_children_in_need__children') }}
),

looked_after_children as (
    select * from {{ ref('stg_looked_after__children') }}
),

sen2_persons as (
    select * from {{ ref('stg_sen2__persons') }}
),

community_patients as (
    select * from {{ ref('stg_community_services__patients') }}
),

camhs_patients as (
    select * from {{ ref('stg_camhs__patients') }}
),

ae_attendances as (
    select * from {{ ref('stg_emergency_care__attendances') }}
),

admissions as (
    select * from {{ ref('stg_admitted_care__episodes') }}
),

recorded_ethnicities as (
    select
        person_record_id,
        ethnicity_code
    from pupils
    union all
    select
        person_record_id,
        ethnicity_code
    from cin_children
    union all
    select
        person_record_id,
        ethnicity_code
    from looked_after_children
    union all
    select
        person_record_id,
        ethnicity_code
    from sen2_persons
    union all
    select
        person_record_id,
        ethnicity_code
    from community_patients
    union all
    select
        person_record_id,
        ethnicity_code
    from camhs_patients
    union all
    select
        person_record_id,
        ethnicity_code
    from ae_attendances
    union all
    select
        person_record_id,
        ethnicity_code
    from admissions
),

linked_records as (
    select
        person_keys.person_key,
        person_records.record_id,
        person_records.source,
        person_records.date_of_birth,
        person_records.sex,
        person_records.postcode,
        -- Only the list's codes compete: an unknown or extended code stays in staging.
        case
            when {{ in_code_list('ethnicity', 'recorded_ethnicities.ethnicity_code') }}
                then recorded_ethnicities.ethnicity_code
        end as ethnicity_code,
        person_records.period_end
    from person_records
    inner join person_keys on person_records.record_id = person_keys.person_record_id
    left join recorded_ethnicities
        on person_records.record_id = recorded_ethnicities.person_record_id
),

golden_record as (
    select
        person_key,
        cast(count(*) as integer) as source_record_count,
        cast(count(*) filter (where source = 'school_census') as integer)
            as school_census_record_count,
        cast(count(*) filter (where source = 'gp') as integer) as gp_record_count,
        {{ survivor('sex', 'sex', is_known=known_sex) }} as sex,
        {{ survivor('sex', 'sex', is_known=known_sex, output='source') }} as sex_source,
        {{ survivor('date_of_birth', 'date_of_birth') }} as date_of_birth,
        {{ survivor('date_of_birth', 'date_of_birth', output='source') }} as date_of_birth_source,
        {{ survivor('ethnicity_code', 'ethnicity', is_known=known_ethnicity) }} as ethnicity,
        {{ survivor(valid_postcode, 'postcode', most_recent_first=true) }} as postcode
    from linked_records
    group by person_key
),

died as (
    -- Any record in the deaths feed; a later extract's date of death corrects an earlier one.
    select
        person_keys.person_key,
        {{ arg_max('deaths.date_of_death', 'deaths.extract_period') }} as died_on
    from deaths
    inner join person_keys on deaths.person_record_id = person_keys.person_record_id
    group by person_keys.person_key
),

latest_census as (
    select {{ arg_max('census_period', 'census_date') }} as census_period from school_enrolments
),

pupils_on_latest_census as (
    select
        school_enrolments.person_key,
        bool_or(school_enrolments.is_fsm_eligible) as is_fsm_eligible,
        -- Dual-registered pupils: the highest provision (E plan over K support over N none).
        {{ arg_max(
            'school_enrolments.sen_provision',
            "case school_enrolments.sen_provision when 'E' then 3 when 'K' then 2 else 1 end"
        ) }} as sen_provision
    from school_enrolments
    inner join latest_census on school_enrolments.census_period = latest_census.census_period
    group by school_enrolments.person_key
),

cin_status as (
    -- A referral with no further action is a referral, not a child in need.
    select
        person_key,
        bool_or(not is_referral_nfa) as is_ever_cin,
        bool_or(is_open and not is_referral_nfa) as is_currently_cin
    from cin_episodes
    group by person_key
),

cp_status as (
    select
        person_key,
        bool_or(is_open) as is_currently_cp_plan
    from cp_plans
    group by person_key
),

care_status as (
    select
        periods_of_care.person_key,
        bool_or(periods_of_care.is_open) as is_currently_looked_after,
        bool_or(
            periods_of_care.period_end_date
            >= golden_record.date_of_birth + interval 16 year
        ) as left_care_aged_16_or_over
    from periods_of_care
    inner join golden_record on periods_of_care.person_key = golden_record.person_key
    group by periods_of_care.person_key
),

in_care_leaver_return as (
    select distinct person_keys.person_key
    from care_leavers
    inner join person_keys on care_leavers.person_record_id = person_keys.person_record_id
),

latest_sen2_return as (
    select max(census_period) as census_period from ehc_plans
),

ehc_status as (
    -- Plans in the latest SEN2 return that are open at the as-at date.
    select
        ehc_plans.person_key,
        bool_or(ehc_plans.is_open) as has_open_ehc_plan
    from ehc_plans
    inner join latest_sen2_return on ehc_plans.census_period = latest_sen2_return.census_period
    group by ehc_plans.person_key
),

latest_gp_extract as (
    select max(extract_period) as extract_period from health_events
    where feed = 'gp'
),

health_status as (
    select
        health_events.person_key,
        -- A CAMHS referral open at any time in the twelve months to the as-at date.
        bool_or(
            health_events.feed = 'camhs'
            and health_events.event_date <= as_at.as_at_date
            and (
                health_events.end_date is null
                or health_events.end_date > as_at.as_at_date - interval 12 month
            )
        ) as is_known_to_camhs,
        -- Registered in the latest GP extract, the registration not ended by the as-at date.
        bool_or(
            health_events.feed = 'gp'
            and health_events.extract_period = latest_gp_extract.extract_period
            and health_events.event_date <= as_at.as_at_date
            and (health_events.end_date is null or health_events.end_date > as_at.as_at_date)
        ) as is_registered_with_gp
    from health_events
    cross join as_at
    cross join latest_gp_extract
    group by health_events.person_key
),

attendance_years as (
    select
        person_key,
        academic_year,
        overall_absence_rate,
        is_persistently_absent,
        is_severely_absent
    from pupil_outcomes
    where sessions_possible > 0
),

latest_attendance as (
    -- The latest academic year with possible sessions, over the terms reported so far.
    {{ deduplicate('attendance_years', 'person_key', 'academic_year desc') }}
),

latest_attainment as (
    -- Each measure from the latest year the child was counted in it (arg_max passes over the
    -- years with no result).
    select
        person_key,
        {{ arg_max('good_level_of_development', 'academic_year') }} as good_level_of_development,
        {{ arg_max('met_phonics_standard', 'academic_year') }} as met_phonics_standard,
        {{ arg_max('met_expected_standard_rwm', 'academic_year') }} as met_expected_standard_rwm,
        {{ arg_max('attainment_8', 'academic_year') }} as attainment_8,
        {{ arg_max('english_maths_grade_4_or_above', 'academic_year') }} as english_maths_grade_4_or_above,
        {{ arg_max('english_maths_grade_5_or_above', 'academic_year') }} as english_maths_grade_5_or_above
    from pupil_outcomes
    group by person_key
),

statuses as (
    select
        golden_record.*,
        as_at.as_at_date,
        died.died_on,
        died.person_key is not null as is_deceased,
        pupils_on_latest_census.sen_provision,
        -- A death recorded without a date is taken to be before the as-at date.
        coalesce(
            died.person_key is not null and died.died_on <= as_at.as_at_date,
            died.person_key is not null
        ) as has_died_by_as_at,
        pupils_on_latest_census.person_key is not null as is_on_latest_school_census,
        coalesce(pupils_on_latest_census.is_fsm_eligible, false) as is_fsm_eligible,
        cin_status.is_ever_cin,
        cin_status.is_currently_cin,
        cp_status.person_key is not null as is_ever_cp_plan,
        cp_status.is_currently_cp_plan,
        care_status.person_key is not null as is_ever_looked_after,
        care_status.is_currently_looked_after,
        care_status.left_care_aged_16_or_over,
        in_care_leaver_return.person_key is not null as is_in_care_leaver_return,
        ehc_status.has_open_ehc_plan,
        health_status.is_known_to_camhs,
        health_status.is_registered_with_gp,
        latest_attendance.academic_year as latest_attendance_academic_year,
        latest_attendance.overall_absence_rate as latest_overall_absence_rate,
        latest_attendance.is_persistently_absent as is_persistently_absent_latest,
        latest_attendance.is_severely_absent as is_severely_absent_latest,
        latest_attainment.good_level_of_development as eyfsp_good_level_of_development,
        latest_attainment.met_phonics_standard as phonics_met_standard,
        latest_attainment.met_expected_standard_rwm as ks2_met_expected_standard_rwm,
        latest_attainment.attainment_8 as ks4_attainment_8,
        latest_attainment.english_maths_grade_4_or_above as ks4_english_maths_grade_4_or_above,
        latest_attainment.english_maths_grade_5_or_above as ks4_english_maths_grade_5_or_above,
        {{ age_in_years('golden_record.date_of_birth', 'least(as_at.as_at_date, died.died_on)') }}
            as age_years
    from golden_record
    cross join as_at
    left join died on golden_record.person_key = died.person_key
    left join pupils_on_latest_census
        on golden_record.person_key = pupils_on_latest_census.person_key
    left join cin_status on golden_record.person_key = cin_status.person_key
    left join cp_status on golden_record.person_key = cp_status.person_key
    left join care_status on golden_record.person_key = care_status.person_key
    left join in_care_leaver_return on golden_record.person_key = in_care_leaver_return.person_key
    left join ehc_status on golden_record.person_key = ehc_status.person_key
    left join health_status on golden_record.person_key = health_status.person_key
    left join latest_attendance on golden_record.person_key = latest_attendance.person_key
    left join latest_attainment on golden_record.person_key = latest_attainment.person_key
),

final as (
    -- A child who has died is no longer in any current status.
    select
        person_key,
        sex,
        {{ code_label('dfe_sex', 'statuses.sex') }} as sex_label,
        ethnicity,
        {{ code_label('ethnicity', 'statuses.ethnicity') }} as ethnicity_label,
        cast(date_trunc('month', date_of_birth) as date) as month_of_birth,
        age_years,
        {{ age_band('age_years') }} as age_band,
        split_part(postcode, ' ', 1) as postcode_district,
        is_deceased,
        died_on,
        coalesce(is_ever_cin, false) as is_ever_cin,
        coalesce(is_currently_cin and not has_died_by_as_at, false) as is_currently_cin,
        is_ever_cp_plan,
        coalesce(is_currently_cp_plan and not has_died_by_as_at, false) as is_currently_cp_plan,
        is_ever_looked_after,
        coalesce(is_currently_looked_after and not has_died_by_as_at, false)
            as is_currently_looked_after,
        coalesce(
            (is_in_care_leaver_return or left_care_aged_16_or_over)
            and not coalesce(is_currently_looked_after, false)
            and not has_died_by_as_at,
            false
        ) as is_care_leaver,
        coalesce(
            (has_open_ehc_plan or sen_provision = 'E') and not has_died_by_as_at, false
        ) as has_ehc_plan,
        coalesce(
            sen_provision = 'K'
            and not coalesce(has_open_ehc_plan, false)
            and not has_died_by_as_at,
            false
        ) as has_sen_support,
        is_fsm_eligible,
        coalesce(is_known_to_camhs, false) as is_known_to_camhs,
        coalesce(is_registered_with_gp and not has_died_by_as_at, false) as is_registered_with_gp,
        is_on_latest_school_census,
        sen_provision,
        {{ code_label('sen_provision', 'statuses.sen_provision') }} as sen_provision_label,
        gp_record_count > 0 as is_known_to_gp,
        latest_attendance_academic_year,
        latest_overall_absence_rate,
        is_persistently_absent_latest,
        is_severely_absent_latest,
        eyfsp_good_level_of_development,
        phonics_met_standard,
        ks2_met_expected_standard_rwm,
        ks4_attainment_8,
        ks4_english_maths_grade_4_or_above,
        ks4_english_maths_grade_5_or_above,
        source_record_count,
        school_census_record_count,
        gp_record_count,
        sex_source,
        date_of_birth_source,
        as_at_date
    from statuses
)

select * from final
