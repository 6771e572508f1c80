{#- Ages and the age bands the marts publish. -#}

{% macro age_in_years(date_of_birth, on_date) -%}
    {#- Completed years between the two dates (the birthday itself counts). -#}
    cast({{ years_between(date_of_birth, on_date) }} as integer)
{%- endmacro %}

{% macro age_band(age_years) -%}
    case
        when {{ age_years }} < 0 then null
        when {{ age_years }} <= 4 then '0-4'
        when {{ age_years }} <= 10 then '5-10'
        when {{ age_years }} <= 15 then '11-15'
        when {{ age_years }} <= 17 then '16-17'
        when {{ age_years }} >= 18 then '18+'
    end
{%- endmacro %}
