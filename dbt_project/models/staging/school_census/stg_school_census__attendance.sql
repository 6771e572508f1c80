{#- Sessions by attendance reason, one row per pupil record, reported term and reason: the
    termly tables (the term before the census) and, in autumn, the second half of the summer
    term, for pupils on roll and pupils no longer on roll. -#}
with

termly_on_roll as (
    select * from {{ source('school_census', 'termlysessiondetailsonroll') }}
),

termly_off_roll as (
    select * from {{ source('school_census', 'termlysessiondetailsoffroll') }}
),

summer_half_term_2_on_roll as (
    select * from {{ source('school_census', 'summerhalfterm2sessiondetailsonroll') }}
),

summer_half_term_2_off_roll as (
    select * from {{ source('school_census', 'summerhalfterm2sessiondetailsoffroll') }}
),

unioned as (
    select
        _period,
        'termlysessiondetailsonroll' as source_table,
        termlysessiondetailsonrolltableid as session_detail_id,
        'termly' as reported_term,
        true as is_on_roll,
        pupilonrolltableid as pupil_id,
        sessions,
        attendancereason,
        _source_file,
        _row_number
    from termly_on_roll
    union all
    select
        _period,
        'termlysessiondetailsoffroll' as source_table,
        termlysessiondetailsoffrolltableid as session_detail_id,
        'termly' as reported_term,
        false as is_on_roll,
        pupilnolongeronrolltableid as pupil_id,
        sessions,
        attendancereason,
        _source_file,
        _row_number
    from termly_off_roll
    union all
    select
        _period,
        'summerhalfterm2sessiondetailsonroll' as source_table,
        summerhalfterm2sessiondetailsonrolltableid as session_detail_id,
        'summer_half_term_2' as reported_term,
        true as is_on_roll,
        pupilonrolltableid as pupil_id,
        sessions,
        attendancereason,
        _source_file,
        _row_number
    from summer_half_term_2_on_roll
    union all
    select
        _period,
        'summerhalfterm2sessiondetailsoffroll' as source_table,
        summerhalfterm2sessiondetailsoffrolltableid as session_detail_id,
        'summer_half_term_2' as reported_term,
        false as is_on_roll,
        pupilnolongeronrolltableid as pupil_id,
        sessions,
        attendancereason,
        _source_file,
        _row_number
    from summer_half_term_2_off_roll
),

renamed as (
    select
        _period as census_period,
        source_table,
        session_detail_id,
        is_on_roll,
        reported_term,
        _source_file as source_file,
        _row_number as source_row_number,
        cast(sessions as integer) as sessions,
        _period || '/' || source_table || '/' || session_detail_id as attendance_record_id,
        -- The person record the sessions belong to, as the pupils and leavers models build it.
        case when is_on_roll then _period || '/' || pupil_id end as pupil_record_id,
        case when not is_on_roll then _period || '/leaver-' || pupil_id end as leaver_record_id,
        {{ person_record_id(
            'school_census',
            "_period || '/' || case when is_on_roll then '' else 'leaver-' end || pupil_id"
        ) }} as person_record_id,
        trim(attendancereason) as attendance_reason
    from unioned
)

select * from renamed
