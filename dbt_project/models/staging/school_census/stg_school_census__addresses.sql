{#- Pupils' home addresses: spring and summer export them as addresses, autumn as
    addressesonroll. -#}
with

addresses as (
    select * from {{ source('school_census', 'addresses') }}
),

addresses_on_roll as (
    select * from {{ source('school_census', 'addressesonroll') }}
),

unioned as (
    select
        _period,
        'addresses' as source_table,
        addressestableid as address_id,
        pupilonrolltableid,
        postcode,
        uniquepropertyreferencenumber,
        saon,
        paon,
        street,
        locality,
        town,
        posttown,
        administrativearea,
        _source_file,
        _row_number
    from addresses
    union all
    select
        _period,
        'addressesonroll' as source_table,
        addressesonrolltableid as address_id,
        pupilonrolltableid,
        postcode,
        uniquepropertyreferencenumber,
        saon,
        paon,
        street,
        locality,
        town,
        posttown,
        administrativearea,
        _source_file,
        _row_number
    from addresses_on_roll
),

renamed as (
    select
        _period as census_period,
        source_table,
        address_id,
        pupilonrolltableid as pupil_on_roll_id,
        _period || '/' || pupilonrolltableid as pupil_record_id,
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
    from unioned
)

select * from renamed
