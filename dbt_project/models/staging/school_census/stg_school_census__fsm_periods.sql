{#- Free school meal periods: spring and summer export them as fsmperiod, autumn as
    fsmperiodsonroll. -#}
with

fsm_periods as (
    select * from {{ source('school_census', 'fsmperiod') }}
),

fsm_periods_on_roll as (
    select * from {{ source('school_census', 'fsmperiodsonroll') }}
),

unioned as (
    select
        _period,
        'fsmperiod' as source_table,
        fsmperiodtableid as fsm_period_id,
        pupilonrolltableid,
        fsmstartdate,
        fsmenddate,
        ukcountry,
        _source_file,
        _row_number
    from fsm_periods
    union all
    select
        _period,
        'fsmperiodsonroll' as source_table,
        fsmperiodsonrolltableid as fsm_period_id,
        pupilonrolltableid,
        fsmstartdate,
        fsmenddate,
        ukcountry,
        _source_file,
        _row_number
    from fsm_periods_on_roll
),

renamed as (
    select
        _period as census_period,
        source_table,
        fsm_period_id,
        pupilonrolltableid as pupil_on_roll_id,
        {{ parse_blade_date('fsmstartdate') }} as fsm_start_date,
        {{ parse_blade_date('fsmenddate') }} as fsm_end_date,
        ukcountry as uk_country,
        _source_file as source_file,
        _row_number as source_row_number
    from unioned
)

select * from renamed
