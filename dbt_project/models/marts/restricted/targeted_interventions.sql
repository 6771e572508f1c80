{#-
    Individual-level list for practitioners: one row per living child with at least one risk
    flag, the reasons in words, and the child's name and date of birth. Children who have
    died are left out at once (the deaths feed), so that no one contacts a bereaved family.
-#}
with

dim_child as (
    select * from {{ ref('dim_child') }}
),

golden_record as (
    select * from {{ ref('child_golden_record') }}
),

health_events as (
    select * from {{ ref('fct_health_events') }}
),

periods_of_care as (
    select * from {{ ref('fct_periods_of_care') }}
),

health_outcomes as (
    select * from {{ ref('stg_looked_after__oc2') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

as_at as (
    select * from {{ ref('as_at_date') }}
),

ae_attendances as (
    select
        health_events.person_key,
        cast(count(*) as integer) as ae_attendances_last_12_months
    from health_events
    cross join as_at
    where
        health_events.event_type = 'ae_attendance'
        and health_events.event_date > as_at.as_at_date - interval 12 month
        and health_events.event_date <= as_at.as_at_date
    group by health_events.person_key
),

looked_after_12_months as (
    -- In an open period of care that began at least a year before the as-at date: the
    -- children the SSDA903 OC2 table covers.
    select distinct periods_of_care.person_key
    from periods_of_care
    cross join as_at
    where
        periods_of_care.is_open
        and periods_of_care.period_start_date <= as_at.as_at_date - interval 12 month
),

latest_return as (
    select max(collection_year) as collection_year from health_outcomes
),

health_assessed as (
    -- An up-to-date health assessment in the latest SSDA903 return's OC2 table.
    select distinct person_keys.person_key
    from health_outcomes
    inner join latest_return on health_outcomes.collection_year = latest_return.collection_year
    inner join person_keys on health_outcomes.person_record_id = person_keys.person_record_id
    where health_outcomes.had_health_assessment
),

flagged as (
    select
        dim_child.person_key,
        dim_child.age_years,
        dim_child.is_currently_cp_plan as is_on_child_protection_plan,
        coalesce(ae_attendances.ae_attendances_last_12_months, 0) as ae_attendances_last_12_months,
        coalesce(
            looked_after_12_months.person_key is not null and health_assessed.person_key is null,
            false
        ) as is_looked_after_without_health_assessment,
        coalesce(ae_attendances.ae_attendances_last_12_months, 0) >= 3
            as has_frequent_ae_attendance,
        coalesce(
            (dim_child.has_ehc_plan or dim_child.has_sen_support)
            and ae_attendances.ae_attendances_last_12_months >= 1
            and not dim_child.is_known_to_camhs,
            false
        ) as has_send_ae_without_camhs,
        -- Compulsory school age (5 to 15 at the as-at date) and on no authority school roll.
        coalesce(
            dim_child.is_currently_cin
            and dim_child.age_years between 5 and 15
            and not dim_child.is_on_latest_school_census,
            false
        ) as is_cin_not_on_school_roll
    from dim_child
    left join ae_attendances on dim_child.person_key = ae_attendances.person_key
    left join looked_after_12_months on dim_child.person_key = looked_after_12_months.person_key
    left join health_assessed on dim_child.person_key = health_assessed.person_key
    where not dim_child.is_deceased
),

final as (
    select
        flagged.person_key,
        golden_record.first_name,
        golden_record.last_name,
        golden_record.date_of_birth,
        flagged.age_years,
        flagged.is_on_child_protection_plan,
        flagged.is_looked_after_without_health_assessment,
        flagged.has_frequent_ae_attendance,
        flagged.has_send_ae_without_camhs,
        flagged.is_cin_not_on_school_roll,
        flagged.ae_attendances_last_12_months,
        as_at.as_at_date,
        cast(
            cast(flagged.is_on_child_protection_plan as integer)
            + cast(flagged.is_looked_after_without_health_assessment as integer)
            + cast(flagged.has_frequent_ae_attendance as integer)
            + cast(flagged.has_send_ae_without_camhs as integer)
            + cast(flagged.is_cin_not_on_school_roll as integer)
            as integer
        ) as risk_flag_count,
        concat_ws(
            '; ',
            case when flagged.is_on_child_protection_plan then 'on a child protection plan' end,
            case
                when flagged.is_looked_after_without_health_assessment
                    then 'looked after for a year or more without an up-to-date health assessment'
            end,
            case
                when flagged.has_frequent_ae_attendance
                    then
                        flagged.ae_attendances_last_12_months
                        || ' A&E attendances in the last 12 months'
            end,
            case
                when flagged.has_send_ae_without_camhs
                    then 'SEN support or EHC plan and A&E attendance without CAMHS contact'
            end,
            case
                when flagged.is_cin_not_on_school_roll
                    then 'child in need of school age not on an authority school roll'
            end
        ) as reasons
    from flagged
    inner join golden_record on flagged.person_key = golden_record.person_key
    cross join as_at
    where
        flagged.is_on_child_protection_plan
        or flagged.is_looked_after_without_health_assessment
        or flagged.has_frequent_ae_attendance
        or flagged.has_send_ae_without_camhs
        or flagged.is_cin_not_on_school_roll
)

select * from final
