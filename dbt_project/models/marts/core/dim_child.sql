{#-
    One row per child (person_key). Pseudonymous: no names, identifiers, full date of birth or
    full postcode. Survivorship for this first cut: the most trusted source wins (School Census
    over GP), then the most recent period.
-#}
with

bridge as (
    select * from {{ source('linkage', 'person_key_bridge') }}
),

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

pupils_on_census_day as (
    select * from {{ ref('int_school_census_pupils_on_census_day') }}
),

linked_records as (
    select
        person_records.*,
        bridge.person_key,
        case person_records.source when 'school_census' then 2 else 1 end as source_trust
    from bridge
    inner join person_records on bridge.record_id = person_records.record_id
),

latest_census as (
    select max(census_date) as census_date from pupils_on_census_day
),

pupils_on_latest_census as (
    select
        linked_records.person_key,
        bool_or(pupils_on_census_day.is_fsm_eligible) as is_fsm_eligible,
        max(pupils_on_census_day.sen_provision) as sen_provision
    from pupils_on_census_day
    inner join latest_census on pupils_on_census_day.census_date = latest_census.census_date
    inner join linked_records on pupils_on_census_day.record_id = linked_records.record_id
    group by linked_records.person_key
),

golden_record as (
    select
        person_key,
        cast(count(*) as integer) as source_record_count,
        cast(count(*) filter (where source = 'school_census') as integer)
            as school_census_record_count,
        cast(count(*) filter (where source = 'gp') as integer) as gp_record_count,
        arg_max(sex, source_trust * 10 + cast(sex != 'U' as integer)) as sex,
        arg_max(date_of_birth, source_trust) as date_of_birth,
        arg_max(postcode, period) filter (where postcode is not null) as postcode
    from linked_records
    group by person_key
),

final as (
    select
        golden_record.person_key,
        golden_record.sex,
        pupils_on_latest_census.sen_provision,
        golden_record.source_record_count,
        golden_record.school_census_record_count,
        golden_record.gp_record_count,
        cast(date_trunc('month', golden_record.date_of_birth) as date) as month_of_birth,
        split_part(golden_record.postcode, ' ', 1) as postcode_district,
        pupils_on_latest_census.person_key is not null as is_on_latest_school_census,
        coalesce(pupils_on_latest_census.is_fsm_eligible, false) as is_fsm_eligible,
        golden_record.gp_record_count > 0 as is_known_to_gp
    from golden_record
    left join pupils_on_latest_census on golden_record.person_key = pupils_on_latest_census.person_key
)

select * from final
