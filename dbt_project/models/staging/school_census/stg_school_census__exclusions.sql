{#- Suspensions and permanent exclusions that began in the term before the census, of pupils
    on roll and pupils no longer on roll. -#}
with

on_roll as (
    select * from {{ source('school_census', 'termlyexclusionsonroll') }}
),

off_roll as (
    select * from {{ source('school_census', 'termlyexclusionsoffroll') }}
),

unioned as (
    select
        _period,
        _period_end,
        'termlyexclusionsonroll' as source_table,
        termlyexclusionsonrolltableid as exclusion_id,
        true as is_on_roll,
        pupilonrolltableid as pupil_id,
        startdate,
        sessions,
        reason1,
        reason2,
        reason3,
        category,
        senprovision,
        _source_file,
        _row_number
    from on_roll
    union all
    select
        _period,
        _period_end,
        'termlyexclusionsoffroll' as source_table,
        termlyexclusionsoffrolltableid as exclusion_id,
        false as is_on_roll,
        pupilnolongeronrolltableid as pupil_id,
        startdate,
        sessions,
        reason1,
        reason2,
        reason3,
        category,
        senprovision,
        _source_file,
        _row_number
    from off_roll
),

renamed as (
    select
        _period as census_period,
        cast(_period_end as date) as period_end,
        _period || '/' || source_table || '/' || exclusion_id as exclusion_record_id,
        source_table,
        exclusion_id,
        is_on_roll,
        case when is_on_roll then _period || '/' || pupil_id end as pupil_record_id,
        case when not is_on_roll then _period || '/leaver-' || pupil_id end as leaver_record_id,
        {{ person_record_id(
            'school_census',
            "_period || '/' || case when is_on_roll then '' else 'leaver-' end || pupil_id"
        ) }} as person_record_id,
        {{ parse_blade_date('startdate') }} as start_date,
        cast(sessions as integer) as sessions,
        -- Some exports name a suspension SUSP: one code for it downstream.
        case when category = 'SUSP' then 'FIXD' else category end as exclusion_category,
        category = 'PERM' as is_permanent,
        {{ clean_text('reason1') }} as reason_1,
        {{ clean_text('reason2') }} as reason_2,
        {{ clean_text('reason3') }} as reason_3,
        {{ clean_text('senprovision') }} as sen_provision,
        _source_file as source_file,
        _row_number as source_row_number
    from unioned
)

select * from renamed
