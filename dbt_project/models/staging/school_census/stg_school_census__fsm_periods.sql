with

source as (
    select * from {{ source('school_census', 'fsmperiod') }}
),

renamed as (
    select
        _period as census_period,
        cast(fsmperiodtableid as integer) as fsm_period_id,
        cast(pupilonrolltableid as integer) as pupil_on_roll_id,
        {{ parse_blade_date('fsmstartdate') }} as fsm_start_date,
        {{ parse_blade_date('fsmenddate') }} as fsm_end_date,
        ukcountry as uk_country,
        _source_file as source_file,
        _row_number as source_row_number
    from source
)

select * from renamed
