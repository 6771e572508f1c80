with

source as (
    select * from {{ source('school_census', 'senneeds') }}
),

renamed as (
    select
        _period as census_period,
        sentype as sen_type,
        _source_file as source_file,
        _row_number as source_row_number,
        senneedstableid as sen_need_id,
        pupilonrolltableid as pupil_on_roll_id,
        cast(sentyperank as integer) as sen_type_rank,
        -- The pupil's record id, as stg_school_census__pupils builds it.
        _period || '/' || pupilonrolltableid as pupil_record_id,
        {{ person_record_id('school_census', "_period || '/' || pupilonrolltableid") }}
            as person_record_id
    from source
)

select * from renamed
