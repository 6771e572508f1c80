{#-
    One row per suspension, lunchtime suspension or permanent exclusion of a child, from the
    School Census exclusion tables (pupils on roll and pupils no longer on roll).

    Schools may report an exclusion in two censuses running (DfE collects exclusions one and
    two terms in arrears): the same child, start day and category is one exclusion, taken
    from the latest census that reported it. Labels come from the code lists
    (macros/code_labels.sql), not from SQL.
-#}
with

exclusions as (
    select * from {{ ref('stg_school_census__exclusions') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

linked as (
    select
        exclusions.*,
        person_keys.person_key
    from exclusions
    inner join person_keys on exclusions.person_record_id = person_keys.person_record_id
),

counted as (
    select
        *,
        cast(count(*) over (
            partition by person_key, start_date, exclusion_category
        ) as integer) as times_reported
    from linked
),

deduplicated as (
    {{ deduplicate('counted', 'person_key, start_date, exclusion_category',
        'period_end desc, exclusion_record_id desc') }}
),

final as (
    select
        deduplicated.exclusion_record_id as exclusion_id,
        deduplicated.person_key,
        deduplicated.census_period,
        deduplicated.start_date,
        deduplicated.exclusion_category,
        {{ code_label('exclusion_category', 'deduplicated.exclusion_category') }}
            as exclusion_category_label,
        deduplicated.sessions,
        deduplicated.reason_1,
        {{ code_label('exclusion_reason', 'deduplicated.reason_1') }} as reason_1_label,
        deduplicated.reason_2,
        {{ code_label('exclusion_reason', 'deduplicated.reason_2') }} as reason_2_label,
        deduplicated.reason_3,
        {{ code_label('exclusion_reason', 'deduplicated.reason_3') }} as reason_3_label,
        deduplicated.sen_provision,
        {{ code_label('sen_provision', 'deduplicated.sen_provision') }} as sen_provision_label,
        deduplicated.is_on_roll,
        deduplicated.times_reported,
        -- The academic year (1 August to 31 July) the exclusion began in.
        {{ academic_year_of('deduplicated.start_date') }} as academic_year,
        deduplicated.exclusion_category = 'FIXD' as is_suspension,
        deduplicated.exclusion_category = 'LNCH' as is_lunchtime_suspension,
        deduplicated.exclusion_category = 'PERM' as is_permanent_exclusion
    from deduplicated
)

select * from final
