"""The API's routes by area, each module an ``APIRouter`` that ``suiren.api.app`` includes under
``/api/v1``; ``common`` holds what they share."""
