with

source as (
    select * from {{ source('school_census', 'schoolcensus') }}
),

renamed as (
    select
        _period as census_period,
        schoolcensustableid as school_census_id,
        term as census_term,
        cast(year as integer) as census_year,
        {{ parse_blade_date('referencedate') }} as census_date,
        estab as establishment_number,
        lea as la_number,
        _source_file as source_file,
        _row_number as source_row_number
    from source
)

select * from renamed
