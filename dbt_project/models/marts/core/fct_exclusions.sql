{#-
    One row per suspension, lunchtime suspension or permanent exclusion of a child, from the
    School Census exclusion tables (pupils on roll and pupils no longer on roll).

    Schools may report an exclusion in two censuses running (DfE collects exclusions one and
    two terms in arrears): the same child, start day and category is one exclusion, taken
    from the latest census that reported it. Category and reason labels come from the code
    lists (reference.code_lists), not from SQL.
-#}
with

exclusions as (
    select * from {{ ref('stg_school_census__exclusions') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

code_lists as (
    select * from {{ ref('code_lists') }}
),

linked as (
    select
        exclusions.*,
        person_keys.person_key
    from exclusions
    inner join person_keys on exclusions.person_record_id = person_keys.person_record_id
),

deduplicated as (
    select
        *,
        cast(count(*) over (
            partition by person_key, start_date, exclusion_category
        ) as integer) as times_reported
    from linked
    qualify row_number() over (
        partition by person_key, start_date, exclusion_category
        order by period_end desc, exclusion_record_id desc
    ) = 1
),

final as (
    select
        deduplicated.exclusion_record_id as exclusion_id,
        deduplicated.person_key,
        deduplicated.census_period,
        deduplicated.start_date,
        deduplicated.exclusion_category,
        category_codes.label as exclusion_category_label,
        deduplicated.sessions,
        deduplicated.reason_1,
        reason_codes.label as reason_1_label,
        deduplicated.reason_2,
        deduplicated.reason_3,
        deduplicated.sen_provision,
        deduplicated.is_on_roll,
        deduplicated.times_reported,
        -- The academic year (1 August to 31 July) the exclusion began in.
        {{ academic_year_of('deduplicated.start_date') }} as academic_year,
        deduplicated.exclusion_category = 'FIXD' as is_suspension,
        deduplicated.exclusion_category = 'LNCH' as is_lunchtime_suspension,
        deduplicated.exclusion_category = 'PERM' as is_permanent_exclusion
    from deduplicated
    left join code_lists as category_codes
        on
            category_codes.codelist = 'exclusion_category'
            and deduplicated.exclusion_category = category_codes.code
    left join code_lists as reason_codes
        on
            reason_codes.codelist = 'exclusion_reason'
            and deduplicated.reason_1 = reason_codes.code
)

select * from final
