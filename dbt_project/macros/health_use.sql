{#-
    The person keys with an A&E attendance in the year to the as-at date. One definition, so
    every mart that counts it means the same thing.
-#}
{% macro attended_ae_in_year(health_events, as_at) -%}
    select distinct {{ health_events }}.person_key
    from {{ health_events }}
    cross join {{ as_at }}
    where
        {{ health_events }}.event_type = 'ae_attendance'
        and {{ health_events }}.event_date > {{ as_at }}.as_at_date - interval 1 year
{%- endmacro %}
