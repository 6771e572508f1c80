with

source as (
    select * from {{ source('school_census', 'addresses') }}
),

renamed as (
    select
        _period as census_period,
        cast(addressestableid as integer) as address_id,
        cast(pupilonrolltableid as integer) as pupil_on_roll_id,
        {{ normalise_postcode('postcode') }} as postcode,
        {{ clean_text('uniquepropertyreferencenumber') }} as uprn,
        {{ clean_text('saon') }} as secondary_addressable_object,
        {{ clean_text('paon') }} as primary_addressable_object,
        {{ clean_text('street') }} as street,
        {{ clean_text('locality') }} as locality,
        {{ clean_text('town') }} as town,
        {{ clean_text('posttown') }} as post_town,
        {{ clean_text('administrativearea') }} as administrative_area,
        _source_file as source_file,
        _row_number as source_row_number
    from source
)

select * from renamed
